"""socialguide: consent-first social media policy guidance (import package ``monitor``)."""

__version__ = "0.1.0"
