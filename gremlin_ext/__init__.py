"""The learned-link extension of the Gremlin engine: ``Neptune#ml.*`` options turn ``out()``,
``in()`` and ``properties()`` steps into batched calls to an inference client."""
