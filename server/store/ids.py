"""Id keys: how stores match ids. Numeric ids match by value whatever their integer type
(``1`` finds ``1L``); strings, UUIDs and numbers never match each other."""

from __future__ import annotations

import uuid
from typing import Any

from server.store.errors import InvalidValue


def id_key(id: Any) -> tuple[str, Any]:
    """A hashable key that identifies an element id across integer types.

    Raises:
        InvalidValue: the id is not an integer, a string or a UUID.
    """
    if isinstance(id, bool):
        raise InvalidValue(f"{id!r} (boolean) cannot be an element id")
    if isinstance(id, int):
        return ("n", int(id))
    if isinstance(id, str):
        return ("s", str(id))
    if isinstance(id, uuid.UUID):
        return ("u", id)
    raise InvalidValue(
        f"{type(id).__name__} {id!r} cannot be an element id (use an integer, a string or a UUID)"
    )
