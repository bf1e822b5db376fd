"""ML job records, the worker loop, cancellation, progress, and export of the live graph.

- :mod:`server.jobs.tables` the SQLAlchemy Core tables (created by Alembic revision 0002).
- :mod:`server.jobs.records` every read and write of those tables (:class:`JobRecords`).
- :mod:`server.jobs.runner` what one job of each kind does (calls :mod:`graphml.api`).
- :mod:`server.jobs.worker` the loop that claims queued jobs, heartbeats and cancels them.
- :mod:`server.jobs.export` the live store -> Neptune Gremlin CSV files that ``graphml`` reads.
- :mod:`server.jobs.serving` endpoints: a cache of loaded predictors, in-process or over HTTP.
"""
