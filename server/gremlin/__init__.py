"""The Gremlin traversal engine.

gremlin-lang script text (``server.gremlin.language``) and wire bytecode (decoded in
``server.protocol``) both become one IR, :class:`server.gremlin.ir.Bytecode`, which the engine
compiles into steps and runs set-at-a-time against the store interface
(:mod:`server.store.interface`). This package imports neither SQLAlchemy, FastAPI nor torch.
"""
