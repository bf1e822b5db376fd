"""Seer's database server: the property-graph store and its doors.

Layering (dependencies point down only):

- ``server.structure``  Gremlin's value model: typed numbers, tokens, graph elements. No dependencies.
- ``server.store``      the property-graph store behind one narrow, batched interface (SQLAlchemy).
- ``server.gremlin``    the traversal engine: gremlin-lang and bytecode become one IR, executed
                        set-at-a-time against the store interface. No SQLAlchemy, FastAPI or torch.
- ``server.protocol``   GraphBinary v1 / GraphSON v3 serializers, WebSocket and HTTP Gremlin handlers.
- ``server.api``        the FastAPI application: routers per resource, one settings object.
- ``server.jobs``       ML job records, the worker loop, cancellation and progress.
- ``server.cli``        the ``seer`` command.
"""
