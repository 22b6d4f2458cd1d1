"""Compliance: flag-log queries, review workflow, reports, exports, retention and dashboard users."""
