"""The /report form's draft in ``user_data`` and its conversation states (shared by the
form's steps in ``report_new`` and the filing in ``report_submit``)."""

from __future__ import annotations

from handlers.context import WulinContext
from storage import reports as svc

CATEGORY, DESCRIPTION, PHOTOS, LOCATION, CONFIRM, DUPLICATE = range(10, 16)
DRAFT = "report_draft"
#: Everything the form keeps in ``user_data``.
FLOW_KEYS = (DRAFT, "report_force_new", "report_guessed", "report_editing")


def get_draft(context: WulinContext) -> svc.Draft | None:
    """The person's draft, or None when no form is open."""
    return context.user_data.get(DRAFT)


def clear_draft(context: WulinContext) -> None:
    """Forget the draft and the form's flags."""
    for key in FLOW_KEYS:
        context.user_data.pop(key, None)
