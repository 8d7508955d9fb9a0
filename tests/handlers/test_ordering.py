"""Updates of several people at once, each person's in arrival order (handlers/ordering.py),
through PTB's own update queue as ``bot.py run`` feeds it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from telegram import Update
from telegram.ext import Application, ApplicationBuilder, TypeHandler

from demo.stand_in import BotAPIStandIn
from handlers.ordering import PerUserUpdateProcessor, ordering_key
from scheduler.clock import SimClock
from tests.conftest import T0


def _message(update_id: int, user_id: int, text: str, chat_id: int | None = None) -> Update:
    chat = chat_id if chat_id is not None else user_id
    data = {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1,
            "chat": {"id": chat, "type": "private" if chat == user_id else "group", "title": "g"},
            "from": {"id": user_id, "is_bot": False, "first_name": f"u{user_id}"},
            "text": text,
        },
    }
    return Update.de_json(data, None)  # type: ignore[arg-type]


class Recorder:
    """A handler that logs start/end and holds each update until its text's gate opens."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.gates: dict[str, asyncio.Event] = {}
        self.running = 0
        self.most_running = 0
        self.opened = False

    def gate(self, text: str) -> asyncio.Event:
        return self.gates.setdefault(text, asyncio.Event())

    def open_all(self) -> None:
        """Let every update through, also those not started yet (teardown)."""
        self.opened = True
        for gate in self.gates.values():
            gate.set()

    async def __call__(self, update: Update, context: Any) -> None:
        text = update.effective_message.text  # type: ignore[union-attr]
        self.log.append(f"start {text}")
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            if not self.opened:
                await self.gate(text).wait()
        finally:
            self.running -= 1
        self.log.append(f"end {text}")


@pytest.fixture
async def app() -> AsyncIterator[tuple[Application, Recorder, PerUserUpdateProcessor]]:  # type: ignore[type-arg]
    stand_in = BotAPIStandIn(SimClock(T0))
    processor = PerUserUpdateProcessor(2)
    application = (
        ApplicationBuilder()
        .token("1:x")
        .request(stand_in)
        .get_updates_request(stand_in)
        .updater(None)
        .concurrent_updates(processor)
        .build()
    )
    recorder = Recorder()
    application.add_handler(TypeHandler(Update, recorder))
    await application.initialize()
    await application.start()
    yield application, recorder, processor
    recorder.open_all()
    await application.stop()
    await application.shutdown()


async def _until(condition: Any, what: str) -> None:
    for _ in range(500):  # a bound on waiting, not a timing assertion
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"gave up waiting for {what}")


async def test_one_users_updates_run_one_after_the_other_in_order(app) -> None:
    """A user's second and third messages wait for the first, then run in arrival order."""
    application, recorder, processor = app
    for n, text in enumerate(["a1", "a2", "a3"], start=1):
        await application.update_queue.put(_message(n, 101, text))
    await _until(lambda: recorder.log == ["start a1"], "the first message")
    await asyncio.sleep(0.05)  # give a wrongly concurrent a2 the chance to start
    assert recorder.log == ["start a1"]
    recorder.gate("a3").set()  # the third may finish at once, but only after its turn
    recorder.gate("a2").set()
    recorder.gate("a1").set()
    await _until(lambda: len(recorder.log) == 6, "all three")
    assert recorder.log == ["start a1", "end a1", "start a2", "end a2", "start a3", "end a3"]
    await _until(lambda: processor.busy_users == 0, "the lanes to be released")


async def test_other_users_are_not_held_up_by_a_slow_one(app) -> None:
    """While one user's update is busy, another user's update runs and finishes."""
    application, recorder, _ = app
    await application.update_queue.put(_message(1, 101, "slow"))
    await application.update_queue.put(_message(2, 202, "quick"))
    recorder.gate("quick").set()
    await _until(lambda: "end quick" in recorder.log, "the other user's update")
    assert recorder.log == ["start slow", "start quick", "end quick"]
    recorder.gate("slow").set()
    await _until(lambda: "end slow" in recorder.log, "the slow update")


async def test_at_most_the_configured_number_run_at_once(app) -> None:
    """Three users, a limit of two: the third starts only when a slot is free."""
    application, recorder, _ = app
    for n, user in enumerate([101, 202, 303], start=1):
        await application.update_queue.put(_message(n, user, f"u{user}"))
    await _until(lambda: recorder.running == 2, "two running")
    await asyncio.sleep(0.05)
    assert recorder.running == 2 and "start u303" not in recorder.log
    recorder.gate("u101").set()
    await _until(lambda: "start u303" in recorder.log, "the third to start")
    recorder.gate("u202").set()
    recorder.gate("u303").set()
    await _until(lambda: recorder.running == 0, "all to finish")
    assert recorder.most_running == 2


async def test_a_user_waiting_for_their_turn_holds_no_slot(app) -> None:
    """User A's second update waits for A's first without taking a slot from user B."""
    application, recorder, _ = app
    await application.update_queue.put(_message(1, 101, "a1"))
    await application.update_queue.put(_message(2, 101, "a2"))
    await application.update_queue.put(_message(3, 202, "b1"))
    await _until(lambda: "start b1" in recorder.log, "B to start while A's second waits")
    assert recorder.log == ["start a1", "start b1"]


def test_ordering_key() -> None:
    """The user decides; a chat without a user (a channel post) is keyed by the chat."""
    assert ordering_key(_message(1, 101, "x")) == 101
    assert ordering_key(_message(1, 101, "x", chat_id=-500)) == 101
    post = Update.de_json(
        {
            "update_id": 9,
            "channel_post": {
                "message_id": 9,
                "date": 1,
                "chat": {"id": -1009, "type": "channel", "title": "c"},
                "text": "hi",
            },
        },
        None,  # type: ignore[arg-type]
    )
    assert ordering_key(post) == -1009
    assert ordering_key("not an update") is None
