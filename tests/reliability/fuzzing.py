"""The hypothesis settings every fuzzer shares (here and in ``tests/server/protocol``): bounded
so that ``make test`` stays short, ``SEER_FUZZ_EXAMPLES`` raises the number of examples."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

EXAMPLES = int(os.environ.get("SEER_FUZZ_EXAMPLES", "50"))
"""Examples per fuzz test (the CI default is 50)."""
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
"""The decorator for a fuzz test: ``@FUZZ`` above ``@given(...)``."""
