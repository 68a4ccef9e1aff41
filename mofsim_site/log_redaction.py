"""Keep credentials that travel in URLs out of the logs.

A training job's data URL (``/api/v1/jobs/data/<signed token>``) is itself the credential, and
access logs (daphne's ``django.channels.server``, runserver's ``django.server``, Django's
``django.request`` warnings) would write it down in full. This filter, attached to every handler
in ``settings.LOGGING``, replaces such tokens and any ``signature=``/``token=`` query value
before a record is written.
"""

import logging
import re

_PATTERNS = [
    (re.compile(r"(/api/v1/jobs/data/)[^\s/?\"']+"), r"\1[redacted]"),
    (re.compile(r"([?&](?:signature|token|sig)=)[^&\s\"']+", re.IGNORECASE), r"\1[redacted]"),
]


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSignedUrls(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True
