"""The store: SQLAlchemy tables, Alembic migrations, and the queries the other parts use."""

from monitor.store.db import Store

__all__ = ["Store"]
