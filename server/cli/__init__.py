"""The ``seer`` command. Each sub-command lives in its own module and registers itself on
:data:`server.cli.main.cli`; ``main.py`` lists the modules."""
