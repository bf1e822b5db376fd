"""The Gremlin Server protocol: how the stock TinkerPop drivers talk to Seer.

Modules, each with one job:

- ``graphbinary`` / ``graphson``: the two wire formats (GraphBinary v1, GraphSON 3), requests in
  (into :mod:`server.gremlin.ir` and :mod:`server.structure` values, numeric types kept exact)
  and responses out (elements with their properties, Path, BulkSet, Tree, ``tinker:graph``).
- ``codecs``: picks the format per request from the frame's mime prefix.
- ``service``: validates a request and runs it on a worker thread against the engine: batching
  (206/200/204), commit/rollback, evaluation timeout, result limit.
- ``sessions``: ``g.tx()`` sessions, one connection and one thread each.
- ``websocket`` / ``http``: the two doors (``ws://HOST:PORT/gremlin``, ``POST /gremlin``).
- ``auth``: users with scrypt password hashes, SASL PLAIN, HTTP Basic, the loopback rule.
- ``status``: core exceptions -> Gremlin status codes; ``errors``: protocol errors and codes.
- ``metrics``: Prometheus counters behind ``/metrics``.

Protocol facts, byte by byte: ``../shared/design/reference/gremlin-server-protocol.md``.
"""
