"""The embedded demo: Northwind Labs and twelve weeks of its history (see ``run.py``)."""

from monitor.demo.run import DEMO_USERS, DemoResult, DemoUser, demo_settings, run_demo

__all__ = ["DEMO_USERS", "DemoResult", "DemoUser", "demo_settings", "run_demo"]
