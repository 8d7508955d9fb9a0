"""How roles read to people: one place that turns role codes into words."""

from __future__ import annotations

from collections.abc import Iterable

from handlers.context import WulinContext
from storage import people

ROLE_ORDER = (
    people.ADMIN,
    people.GRID_LEADER,
    people.CAPTAIN,
    people.BACKUP_CAPTAIN,
    people.RESIDENT,
)


def describe_roles(context: WulinContext, roles: Iterable[str]) -> str:
    """Roles in the reader's language, most senior first (e.g. "网格员、邻长")."""
    present = set(roles)
    names = [context.t(f"role.{role}") for role in ROLE_ORDER if role in present]
    if not names:
        return context.t("common.none")
    return ("、" if context.lang == "zh" else ", ").join(names)
