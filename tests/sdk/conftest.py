"""The SDK is its own package (``sdk/``); tests import it from the checkout, as ``pip install ./sdk`` would."""

import sys
from pathlib import Path

SDK = str(Path(__file__).resolve().parents[2] / "sdk")
if SDK not in sys.path:
    sys.path.insert(0, SDK)
