"""Hypothesis profiles: `fundapp` (random, 40 examples), `ci` (derandomized), `long` (1000 examples).

Pick one with the HYPOTHESIS_PROFILE environment variable.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_common = {
    "deadline": None,
    "max_examples": 40,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}
settings.register_profile("fundapp", **_common)
settings.register_profile("ci", derandomize=True, database=None, print_blob=True, **_common)
settings.register_profile("long", **{**_common, "max_examples": 1000})  # bug hunting, not for `make test`
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fundapp"))
