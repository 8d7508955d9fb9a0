"""A report notice (or a forwarded question) is withheld from a recipient who lost the role
between queuing and sending (an import, a handover) and goes to whoever has it now."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage import outbox
from storage.models import CommunityAdmin, Grid, NeighbourGroup, OutboxMessage, Person
from storage.notice_screen import WITHHELD, withhold_stale
from tests.conftest import T0
from tests.storage.test_reports import CONFIG, Db, Flow, _cast, _file

LATER = T0 + timedelta(minutes=1)


async def _claim(db: Db) -> tuple[list[outbox.Claimed], set[int]]:
    async with db.begin() as session:
        claimed = await outbox.claim_due(session=session, now=LATER, limit=50)
        withheld = await withhold_stale(session=session, claimed=claimed, now=LATER, tz=CONFIG.tz)
    return claimed, withheld


async def test_notices_to_the_people_handling_the_report_go_out(db: Db) -> None:
    """Nothing changed: nothing is withheld (captain, and an admin's escalation alike)."""
    async with db.begin() as session:
        cast = await _cast(session)
        rid = await _file(session, cast)
    flow = Flow(db, cast, rid)
    claimed, withheld = await _claim(db)
    assert [m.person_id for m in claimed] == [flow.pid("captain")] and withheld == set()
    async with db.begin() as session:
        admin = await session.scalar(select(CommunityAdmin.person_id))
        await outbox.enqueue_to_person(session=session, person_id=admin, kind="report_handler",
                                       payload={"text": "x", "report_id": rid}, now=T0)  # fmt: skip
    claimed, withheld = await _claim(db)
    assert [m.person_id for m in claimed] == [admin] and withheld == set()


async def test_a_captain_replaced_before_the_notice_left_never_gets_it(db: Db) -> None:
    """The captain is replaced after the report was filed, before the notice was sent: the
    old captain gets nothing (their message is marked failed, with the reason) and the new
    captain gets the notice, with the reporter's contact."""
    async with db.begin() as session:
        cast = await _cast(session)
        rid = await _file(session, cast)
        group = await session.get(NeighbourGroup, cast["reporter"].group_id)
        group.captain_id = cast["backup"].person_id
        group.backup_captain_id = None
    flow = Flow(db, cast, rid)
    (old,), withheld = await _claim(db)
    assert old.person_id == flow.pid("captain") and withheld == {old.id}
    rows = {m.id: m for m in await flow.outbox()}
    assert rows[old.id].status == outbox.FAILED and rows[old.id].last_error == WITHHELD
    (new,) = [m for m in rows.values() if m.id != old.id]
    assert new.person_id == flow.pid("backup") and new.status == outbox.PENDING
    assert new.kind == "report_new" and "13900000011" in str(new.payload)
    claimed, withheld = await _claim(db)  # the new captain's copy passes the screen
    assert [m.id for m in claimed] == [new.id] and withheld == set()


async def test_an_escalation_to_a_grid_leader_who_lost_the_grid_goes_to_the_new_leader(
    db: Db,
) -> None:
    """A grid leader's notice (an escalated report) withheld after the grid got a new leader."""
    async with db.begin() as session:
        cast = await _cast(session)
        rid = await _file(session, cast)
    flow = Flow(db, cast, rid)
    await _claim(db)  # the captain's notice goes out
    await flow.act("captain", "escalate", note="需要物业")
    grid_id = (await flow.report()).grid_id
    async with db.begin() as session:
        successor = await session.get(Person, cast["neighbour"].person_id)
        (await session.get(Grid, grid_id)).leader_id = successor.id
    claimed, withheld = await _claim(db)
    (old,) = [m for m in claimed if m.kind == "report_handler"]
    assert old.person_id == flow.pid("grid") and withheld == {old.id}
    (new,) = [m for m in await flow.outbox(old.id) if m.kind == "report_handler"]
    assert new.person_id == successor.id and new.status == outbox.PENDING


async def test_a_forwarded_question_follows_the_group_not_the_old_captain(db: Db) -> None:
    """A resident's question forwarded to the captain (name and home in the text) is
    withheld when the captain was replaced before it left, and goes to the new captain;
    one without a group (queued before the screen existed) passes unscreened."""
    async with db.begin() as session:
        cast = await _cast(session)
        group_id = cast["reporter"].group_id
        for payload in (
            {"text": "小李 2栋 3单元：垃圾怎么分？", "group_id": group_id},
            {"text": "旧"},
        ):
            await outbox.enqueue_to_person(session=session, person_id=cast["captain"].person_id,
                                           kind="faq_forward", payload=payload, now=T0)  # fmt: skip
        group = await session.get(NeighbourGroup, group_id)
        group.captain_id, group.backup_captain_id = cast["backup"].person_id, None
    claimed, withheld = await _claim(db)
    assert [m.payload.get("group_id") for m in claimed] == [group_id, None]
    assert withheld == {claimed[0].id}
    async with db.begin() as session:
        rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert [(m.person_id, m.status) for m in rows] == [
        (cast["captain"].person_id, outbox.FAILED),
        (cast["captain"].person_id, outbox.PENDING),
        (cast["backup"].person_id, outbox.PENDING),
    ]
    assert rows[2].payload["text"] == rows[0].payload["text"]
