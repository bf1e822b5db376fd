"""Bulk loading: Neptune's Gremlin CSV format, GraphSON 3.0 and GraphML into any store.

``load(store, paths, format=..., fail_on_error=..., progress=...) -> LoadReport`` is the one entry
point (the ``seer load`` command and the REST ``/loader`` route call it);
``LoadReport.to_neptune()`` gives Neptune's loader status payload.

Modules: :mod:`.core` (orchestration, transactions), :mod:`.neptune_csv`, :mod:`.graphson`,
:mod:`.graphml` (readers: files -> records), :mod:`.sinks` (records -> the database),
:mod:`.records`, :mod:`.report`.
"""

from server.store.loaders.core import FORMATS, detect_format, load, source_files
from server.store.loaders.records import LoadIssue
from server.store.loaders.report import LoadReport

__all__ = ["FORMATS", "LoadIssue", "LoadReport", "detect_format", "load", "source_files"]
