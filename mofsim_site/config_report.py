"""The running configuration for operators, with secrets redacted (``/api/v1/system/config``).

Redacted: the value of any setting or nested key whose name contains SECRET, PASSWORD, TOKEN or
KEY (so ``SECRET_KEY``, ``EMAIL_HOST_PASSWORD``, ``METRICS_TOKEN``, S3 ``secret_key``/``access_key``),
and the password part of any ``scheme://user:password@host`` string (``DATABASE_URL``,
``REDIS_URL``, ``BROKER_URL``, cache and channel-layer hosts). Redaction is by name *and* by
shape, so a secret put under an unexpected name in a URL is still hidden. Values that are not
plain data (classes, paths) are shown as strings.
"""

import re

from django.conf import settings

REDACTED = "********"
SENSITIVE_NAME = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|KEY", re.IGNORECASE)
URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*:)(?P<password>[^@\s]+)(?P<tail>@)", re.IGNORECASE)


def redact_value(value):
    if isinstance(value, dict):
        return {str(k): REDACTED if SENSITIVE_NAME.search(str(k)) and v not in ("", None) else redact_value(v)
                for k, v in value.items()}  # fmt: skip
    if isinstance(value, (list, tuple, set, frozenset)):
        return [redact_value(v) for v in value]
    if isinstance(value, (bool, int, float)) or value is None:
        return value
    return URL_PASSWORD.sub(rf"\g<head>{REDACTED}\g<tail>", str(value))


def config_report() -> dict:
    """Every upper-case setting, redacted."""
    out = {}
    for name in sorted(dir(settings)):
        if not name.isupper() or name.startswith("_"):
            continue
        value = getattr(settings, name)
        if callable(value) and not isinstance(value, type):
            continue
        out[name] = REDACTED if SENSITIVE_NAME.search(name) and value not in ("", None) else redact_value(value)
    return out
