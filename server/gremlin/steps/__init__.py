"""Built-in steps, one module per family. Importing this package registers every builder with
:mod:`server.gremlin.compiler`."""

from server.gremlin import io  # noqa: F401
from server.gremlin.steps import (  # noqa: F401
    branch,
    filter,
    flatmap,
    functions,
    map,
    match,
    mutation,
    sideeffect,
    start,
)
