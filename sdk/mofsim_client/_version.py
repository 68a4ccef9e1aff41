"""The SDK's version: its major number is the API version it speaks (``/api/v1`` → 1.x)."""

API_VERSION = "v1"
__version__ = "1.0.0"
