"""The compliance dashboard: server-rendered pages over the flag log, reports and exports."""

from monitor.web.app import create_app

__all__ = ["create_app"]
