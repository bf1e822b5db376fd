"""The Gremlin traversal engine.

gremlin-lang script text (``server.gremlin.language``) and wire bytecode (decoded in
``server.protocol``) both become one IR, :class:`server.gremlin.ir.Bytecode`, which the engine
compiles into steps and runs set-at-a-time against the store interface
(:mod:`server.store.interface`). This package imports neither SQLAlchemy, FastAPI nor torch.

Layout:

- ``engine.py``: the front door (:class:`GremlinEngine`, :class:`ExecutionOptions`, source
  instructions, result materialisation).
- ``compiler.py``: Bytecode -> :class:`~server.gremlin.runtime.Pipeline`; modulators; infix
  ``and()``/``or()``.
- ``runtime.py``: traversers, the per-run context (deadline, sacks, side effects, batched
  property loads), the step base class and pipelines.
- ``steps/``: built-in steps by family: ``start``, ``filter``, ``map``, ``flatmap``, ``branch``,
  ``sideeffect``, ``mutation``, ``match``, ``functions`` (math, strings, casts, dates, lists).
- ``semantics.py`` (equality, comparability, orderability, numeric promotion),
  ``predicates.py`` (P / TextP), ``types.py`` (typeOf).
- ``strategies.py``: withStrategies configuration and rewrites (has() pushdown, Subgraph,
  Partition, ReadOnly, ...); ``extensions.py``: the extension API used by ``gremlin_ext``.
- ``io.py``: the io() step (GraphSON 3 / GraphML under a configured root).
"""
