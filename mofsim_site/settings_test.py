"""Test settings: the real settings module, with test-only environment defaults.

Tests get their own WORKDIR (so their embedded Redis and SQLite files never meet a developer's
running workers) and their own Redis key namespace (so a shared Redis server in CI is safe).
Everything else — broker, channel layer, storage — is the production code path.
"""

import os
from pathlib import Path

os.environ.setdefault("WORKDIR", str(Path(__file__).resolve().parent.parent / "var" / "test"))
os.environ.setdefault("REDIS_NAMESPACE", f"mofsim-test-{os.getpid()}")

from mofsim_site.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast; tests only
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"login": "1000/min"}}  # noqa: F405
