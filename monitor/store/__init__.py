"""The store: SQLAlchemy tables, Alembic migrations, and the queries the other parts use.

``Session`` is re-exported so that the parts above the store can hold a unit of work in a
type hint without importing SQLAlchemy themselves: only ``monitor/store`` speaks SQL.
"""

from sqlalchemy.orm import Session

from monitor.store.db import Store

__all__ = ["Session", "Store"]
