"""Settings for the launcher subprocess in tests: the test settings, pointed at the test database."""

import os

from mofsim_site.settings_test import *  # noqa: F403

DATABASES["default"]["NAME"] = os.environ["MOFSIM_TEST_DB"]  # noqa: F405
