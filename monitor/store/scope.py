"""Who may see which flags: compliance and auditors everything, managers their team, employees
themselves. The shadow log (flags with only experimental or low-confidence findings) is for
compliance to judge rules and models: managers and employees never see a shadow flag."""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import and_, false, select

from monitor.domain import FlagStatus
from monitor.store.schema import FlagRow, PersonRow


class Viewer(Protocol):
    """What scoping needs to know about who is asking (``compliance.users.Viewer`` has it)."""

    @property
    def role(self) -> str: ...

    @property
    def person_id(self) -> int | None: ...

    @property
    def sees_everything(self) -> bool: ...


def team_ids_query(manager_person_id: int) -> Any:
    """A SELECT of the manager and everyone whose manager chain leads to them (recursive CTE)."""
    base = select(PersonRow.id).where(PersonRow.id == manager_person_id)
    tree = base.cte("team_tree", recursive=True)
    tree = tree.union(select(PersonRow.id).where(PersonRow.manager_id == tree.c.id))
    return select(tree.c.id)


def flag_scope(viewer: Viewer) -> Any:
    """The WHERE clause that limits flags to what ``viewer`` may see."""
    if viewer.sees_everything:
        return None
    if viewer.person_id is None:
        return false()
    live = FlagRow.status != FlagStatus.SHADOW.value
    if viewer.role == "manager":
        return and_(FlagRow.person_id.in_(team_ids_query(viewer.person_id)), live)
    if viewer.role == "employee":
        return and_(FlagRow.person_id == viewer.person_id, live)
    return false()
