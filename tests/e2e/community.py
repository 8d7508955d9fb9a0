"""The sample organisation in an end-to-end test: imported with the CLI, people acting through
the fake Bot API.

``import_org`` runs ``python bot.py org import demo/org.yaml`` and ``org invites --json`` the
way an admin would; ``Community`` then declares the Telegram users and walks them through the
bot: staff bind with their personal code and their own phone number, residents join with the
group code and pick their building.
"""

from __future__ import annotations

import asyncio
import copy
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.e2e.bot_process import BOT, ROOT, BotProcess, bot_env, clean_environ
from tests.e2e.fake_botapi import FakeBotAPI, UserHandle
from tests.e2e.times import midday_zone

ORG_FILE = ROOT / "demo" / "org.yaml"


@dataclass(frozen=True)
class Invites:
    """What ``org invites --json`` printed: group codes by group, personal codes by name."""

    groups: dict[str, str]
    personal: dict[str, str]
    roles: dict[str, list[str]]
    phones: dict[str, str] = field(default_factory=dict)


async def run_cli(*args: str, database_url: str, cwd: Path, timeout: float = 120) -> str:  # noqa: ASYNC109
    """``python bot.py ARGS`` with only DATABASE_URL set; returns stdout, fails on non-zero."""
    env = clean_environ()
    env.update(DATABASE_URL=database_url, PYTHONDONTWRITEBYTECODE="1")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(BOT),
        *args,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    if proc.returncode != 0:
        raise AssertionError(
            f"bot.py {' '.join(args)} exited {proc.returncode}:\n{err.decode()}\n{out.decode()}"
        )
    return out.decode()


def org_phones() -> dict[str, str]:
    """Staff name → phone, from demo/org.yaml (what each person's Telegram account would have)."""
    phones: dict[str, str] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "name" in node and "phone" in node:
                phones[node["name"]] = str(node["phone"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(yaml.safe_load(ORG_FILE.read_text(encoding="utf-8")))
    return phones


async def import_org(database_url: str, cwd: Path) -> Invites:
    """Import demo/org.yaml (migrating the database on the way) and read back the invites."""
    await run_cli("org", "import", str(ORG_FILE), database_url=database_url, cwd=cwd)
    listing = json.loads(
        await run_cli("org", "invites", "--json", database_url=database_url, cwd=cwd)
    )
    groups = {row["group"]: row["code"] for row in listing if row["kind"] == "group"}
    personal = {row["person"]: row["code"] for row in listing if row["kind"] == "personal"}
    roles = {row["person"]: row["roles"] for row in listing if row["kind"] == "personal"}
    return Invites(groups=groups, personal=personal, roles=roles, phones=org_phones())


class Community:
    """People of the sample organisation acting through the fake Bot API."""

    #: Stable Telegram ids, so a test can name people across restarts and instances.
    IDS = {
        "李敏": 20_000_001,
        "张伟": 20_000_002,
        "王芳": 20_000_003,
        "陈刚": 20_000_004,
        "刘洋": 20_000_005,
        "赵丽": 20_000_006,
        "孙强": 20_000_007,
        "周敏": 20_000_008,
        "吴军": 20_000_009,
    }

    def __init__(self, api: FakeBotAPI, invites: Invites) -> None:
        self.api = api
        self.invites = invites
        self.people: dict[str, UserHandle] = {}
        self._next_resident = 30_000_001
        # Every staff member's account exists from the start, as on Telegram: what the bot
        # sends them unasked (a Monday digest caught up at start, a morning reminder) must
        # not depend on which of them the test has spoken to.
        for name in self.IDS:
            self.person(name)

    def person(self, name: str) -> UserHandle:
        """The Telegram user of a staff member (declared on first use)."""
        if name not in self.people:
            self.people[name] = self.api.user(name, user_id=self.IDS[name])
        return self.people[name]

    async def bind(self, name: str, timeout: float = 15) -> UserHandle:  # noqa: ASYNC109
        """``/start <personal code>``, share the own contact, wait for 绑定成功."""
        user = self.person(name)
        await user.send(f"/start {self.invites.personal[name]}")
        await self.api.wait_for_message(user, "手机号", timeout)
        assert _asks_contact(self.api.reply_keyboard(user)), "no share-contact button shown"
        await user.send_contact(self.invites.phones[name])
        await self.api.wait_for_message(user, "绑定成功", timeout)
        return user

    async def bind_all(self, *names: str) -> list[UserHandle]:
        """Bind several staff members, one after the other."""
        return [await self.bind(name) for name in names]

    def resident(self, name: str = "小李") -> UserHandle:
        """A new Telegram user (not yet joined)."""
        user = self.api.user(name, user_id=self._next_resident)
        self._next_resident += 1
        return user

    async def join(
        self,
        user: UserHandle,
        group: str = "g1-heping",
        building: str = "2栋",
        unit: str | None = "3单元",
        timeout: float = 15,  # noqa: ASYNC109
    ) -> dict[str, Any]:
        """Open the group's invite, pick the building, give the unit (or skip); the welcome."""
        await user.send(f"/start {self.invites.groups[group]}")
        ask = await self.api.wait_for_message(user, "请选择你住的楼栋", timeout)
        await user.press(ask, building)
        if unit is None:
            edited = await latest_with_button(self.api, user, "跳过", timeout)
            await user.press(edited, "跳过")
        else:
            await wait_edit(self.api, ask, "单元", timeout)
            await user.send(unit)
        return await self.api.wait_for_message(user, "已加入", timeout)


def _asks_contact(markup: dict[str, Any] | None) -> bool:
    keyboard = (markup or {}).get("keyboard") or []
    return any(
        isinstance(button, dict) and button.get("request_contact")
        for row in keyboard
        for button in row
    )


async def wait_until(
    condition: Callable[[], Any],
    timeout: float = 15,  # noqa: ASYNC109
    what: str = "condition",
    interval: float = 0.05,
) -> Any:
    """Poll ``condition`` until it returns something truthy (returned) or fail after timeout."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = condition()
        if value:
            return value
        if asyncio.get_running_loop().time() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(interval)


async def wait_edit(
    api: FakeBotAPI,
    message: dict[str, Any],
    text: str,
    timeout: float = 15,  # noqa: ASYNC109
) -> dict[str, Any]:
    """The bot message as it is once its text contains ``text`` (the bot edits in place)."""

    def current() -> dict[str, Any] | None:
        stored = api.world.message(message["chat"]["id"], message["message_id"])
        return (
            stored
            if stored and text in (stored.get("text") or stored.get("caption") or "")
            else None
        )

    return copy.deepcopy(await wait_until(current, timeout, f"message edited to contain {text!r}"))


def buttons(message: dict[str, Any]) -> list[str]:
    """The labels of a message's inline buttons."""
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    return [button["text"] for row in rows for button in row]


def has_button(message: dict[str, Any], label: str) -> bool:
    """Whether a message shows an inline button whose label contains ``label``."""
    return any(label in text for text in buttons(message))


async def latest_with_button(
    api: FakeBotAPI,
    user: UserHandle,
    label: str,
    timeout: float = 15,  # noqa: ASYNC109
) -> dict[str, Any]:
    """The newest bot message in the chat offering a button labelled ``label`` (edits count)."""

    def find() -> dict[str, Any] | None:
        for message in reversed(api.messages_to(user)):
            if has_button(message, label):
                return message
        return None

    return await wait_until(find, timeout, f"a {label!r} button for {user!r}")


def body(message: dict[str, Any]) -> str:
    """A message's text, or its caption for photos."""
    return message.get("text") or message.get("caption") or ""


def callback_answer(api: FakeBotAPI, update: dict[str, Any]) -> dict[str, Any] | None:
    """How the bot answered one button press (answerCallbackQuery parameters), if it did."""
    query_id = update["callback_query"]["id"]
    found = [a for a in api.answered_callbacks if a["callback_query_id"] == query_id]
    return found[0] if found else None


def count_messages(api: FakeBotAPI, user: UserHandle, text: str) -> int:
    """How many of the bot's messages in the chat contain ``text``."""
    return sum(text in (m.get("text") or m.get("caption") or "") for m in api.messages_to(user))


def texts(api: FakeBotAPI, user: UserHandle) -> list[str]:
    """The bot's messages in the chat (text or caption), in order."""
    return [m.get("text") or m.get("caption") or "" for m in api.messages_to(user)]


async def bind_everyone(database_url: str, invites: Invites, cwd: Path) -> None:
    """Run the bot once on the database and bind every staff member through it.

    For tests that need the organisation's staff on Telegram *before* their bot starts (a
    fan-out at start).  The check-in window is put out of reach so nothing is queued here.
    """
    async with FakeBotAPI() as api:
        env = bot_env(
            api,
            database_url,
            timezone=midday_zone(),
            checkin_time="23:57",
            nudge_time="23:58",
            summary_time="23:59",
        )
        async with BotProcess(api, env, cwd=cwd, name="binder") as bot:
            await Community(api, invites).bind_all(*Community.IDS)
            await bot.stop()
