"""The fake Bot API checks input like Telegram, keeps state, limits floods, runs standalone."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    Update,
)
from telegram.error import BadRequest, RetryAfter
from telegram.ext import Application, MessageHandler, filters

from tests.e2e.fake_botapi import FakeBotAPI, RateLimits
from tests.e2e.fake_botapi_media import sample_jpeg

TOKEN = "123:ABC"
ROOT = Path(__file__).resolve().parents[2]
# PTB itself reads RetryAfter.retry_after as an int while building the exception.
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"
)


@pytest.fixture
async def api():
    """A fresh fake server per test."""
    async with FakeBotAPI() as fake:
        yield fake


@pytest.fixture
async def bot(api):
    """A real PTB Bot pointed at the fake (initialize() already called getMe)."""
    async with Bot(token=TOKEN, base_url=api.base_url, base_file_url=api.file_url) as real:
        yield real


def keyboard(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    """One row of callback buttons."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d) for t, d in buttons]])


async def test_validation_errors(api, bot):
    """Empty/long text, oversized callback data, unknown chat and bad HTML are 400s."""
    user = api.user()
    too_long_data = keyboard(("b", "d" * 65))
    cases = [
        ("message text is empty", {"chat_id": user.id, "text": "   "}),
        ("message is too long", {"chat_id": user.id, "text": "长" * 4097}),
        ("BUTTON_DATA_INVALID", {"chat_id": user.id, "text": "x", "reply_markup": too_long_data}),
        ("chat not found", {"chat_id": 987654321, "text": "x"}),
        ("can't parse entities", {"chat_id": user.id, "text": "<3 你", "parse_mode": "HTML"}),
        ("reserved", {"chat_id": user.id, "text": "1.5", "parse_mode": "MarkdownV2"}),
    ]
    for expected, kwargs in cases:
        with pytest.raises(BadRequest) as caught:
            await bot.send_message(**kwargs)
        assert expected.lower() in caught.value.message.lower()


async def test_html_is_parsed_into_entities(api, bot):
    """HTML markup is stripped and reported as entities with UTF-16 offsets."""
    user = api.user()
    html = "👍 <b>粗体</b> &amp; <a href='https://example.org/'>链接</a>"
    message = await bot.send_message(user.id, html, parse_mode="HTML")
    assert message.text == "👍 粗体 & 链接"
    bold, link = message.entities
    assert (bold.type, bold.offset, bold.length) == ("bold", 3, 2)
    assert (link.type, link.offset, link.length, link.url) == (
        "text_link",
        8,
        2,
        "https://example.org/",
    )


async def test_edits_update_state_and_reject_no_op(api, bot):
    """Edits change the stored message; an identical edit is "message is not modified"."""
    user = api.user()
    sent = await bot.send_message(user.id, "待处理", reply_markup=keyboard(("处理", "p:1")))
    edited = await bot.edit_message_text(
        "已处理", user.id, sent.message_id, reply_markup=keyboard(("撤销", "u:1"))
    )
    assert edited.text == "已处理" and edited.edit_date is not None
    (current,) = api.messages_to(user)
    assert current["reply_markup"]["inline_keyboard"][0][0]["text"] == "撤销"
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text(
            "已处理", user.id, sent.message_id, reply_markup=keyboard(("撤销", "u:1"))
        )
    await bot.edit_message_text("已处理", user.id, sent.message_id)
    assert "reply_markup" not in api.messages_to(user)[0]
    assert await bot.delete_message(user.id, sent.message_id)
    assert api.messages_to(user) == []


async def test_uploads_and_files(api, bot):
    """Multipart photo/document/album uploads parse; getFile serves the uploaded bytes."""
    user = api.user()
    photo = await bot.send_photo(
        user.id, sample_jpeg(), caption="海报", reply_markup=keyboard(("下载", "dl:1"))
    )
    assert photo.caption == "海报" and photo.photo[-1].width == 64
    assert api.calls_of("sendPhoto")[0].params["reply_markup"]["inline_keyboard"]
    document = await bot.send_document(user.id, b"a,b\n1,2\n", filename="report.csv")
    assert document.document.file_name == "report.csv"
    file = await bot.get_file(document.document.file_id)
    assert bytes(await file.download_as_bytearray()) == b"a,b\n1,2\n"
    album = await bot.send_media_group(user.id, [InputMediaPhoto(sample_jpeg()) for _ in "ab"])
    assert len(album) == 2 and album[0].media_group_id == album[1].media_group_id
    again = await bot.send_photo(user.id, photo.photo[-1].file_id)
    assert again.photo[-1].file_id == photo.photo[-1].file_id


async def test_misc_methods(api, bot):
    """Location, chat action, caption edit, commands and getChat answer what PTB expects."""
    user = api.user()
    assert (await bot.send_location(user.id, 31.2, 121.5)).location.longitude == 121.5
    assert await bot.send_chat_action(user.id, "typing")
    photo = await bot.send_photo(user.id, sample_jpeg(), caption="旧")
    assert (await bot.edit_message_caption(user.id, photo.message_id, caption="新")).caption == "新"
    assert await bot.set_my_commands([BotCommand("start", "开始"), BotCommand("help", "帮助")])
    assert [c.command for c in await bot.get_my_commands()] == ["start", "help"]
    assert await bot.delete_my_commands() and await bot.get_my_commands() == ()
    assert (await bot.get_chat(user.id)).first_name == user.name
    assert await bot.close() and await bot.log_out()


async def test_unknown_method_envelope(api):
    """Unknown methods get Telegram's exact 404 envelope."""
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{api.base_url}{TOKEN}/sendTelepathy", json={})
    assert response.status_code == 404
    assert response.json() == {
        "ok": False,
        "error_code": 404,
        "description": "Not Found: method not found",
    }


async def test_rate_limit_and_stats(bot):
    """Beyond the per-chat burst the fake answers 429 and counts it; duplicates are seen."""
    limits = RateLimits(per_chat_per_second=1, chat_burst=2)
    async with FakeBotAPI(rate_limit=limits) as api:
        user = api.user()
        limited = Bot(token=TOKEN, base_url=api.base_url, base_file_url=api.file_url)
        async with limited:
            await limited.send_message(user.id, "同一句")
            await limited.send_message(user.id, "同一句")
            with pytest.raises(RetryAfter):
                await limited.send_message(user.id, "第三句")
        assert api.stats.rate_limited == 1 and api.stats.accepted[user.id] == 2
        assert api.stats.duplicates == [(user.id, "同一句")]


async def test_wait_for_message_walks_forward(api, bot):
    """wait_for_message returns messages in order, matching, and fails with what it saw."""
    user = api.user()
    await bot.send_message(user.id, "第一条")
    await bot.send_message(user.id, "第二条")
    assert (await api.wait_for_message(user))["text"] == "第一条"
    assert (await api.wait_for_message(user, "二"))["text"] == "第二条"
    with pytest.raises(AssertionError, match="第二条"):
        await api.wait_for_message(user, timeout=0.2)


def test_standalone_prints_its_url():
    """`python -m tests.e2e.fake_botapi --port 0` starts and prints the base URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.e2e.fake_botapi", "--port", "0"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        first = process.stdout.readline()
        second = process.stdout.readline()
        assert first.startswith("fake Bot API listening on http://127.0.0.1:")
        assert second.startswith("TELEGRAM_API_BASE_URL=http://127.0.0.1:")
    finally:
        process.terminate()
        process.wait(timeout=10)


def _application(api: FakeBotAPI) -> Application:
    """A PTB Application that echoes text, pointed at the fake."""

    async def echo(update: Update, context: object) -> None:
        await update.message.reply_text(f"echo: {update.message.text}")

    builder = Application.builder().token(TOKEN).base_url(api.base_url)
    app = builder.base_file_url(api.file_url).build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    return app


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_application_polling_round_trip(api):
    """PTB's Updater polls the fake, the handler's reply lands in the user's chat."""
    user = api.user()
    app = _application(api)
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)
        await user.send("你好")
        assert (await api.wait_for_message(user, "echo"))["text"] == "echo: 你好"
        await app.updater.stop()
        await app.stop()
    assert api.calls[0].method == "getMe" and api.calls_of("deleteWebhook")


async def test_application_webhook_round_trip(api):
    """PTB's webhook server receives the update (secret checked by PTB) and replies."""
    user, port = api.user(), _free_port()
    app = _application(api)
    async with app:
        await app.start()
        url = f"http://127.0.0.1:{port}/hook"
        await app.updater.start_webhook(
            listen="127.0.0.1", port=port, url_path="hook", webhook_url=url, secret_token="abc"
        )
        await user.send("webhook")
        assert (await api.wait_for_message(user, "echo"))["text"] == "echo: webhook"
        await app.updater.stop()
        await app.stop()
    assert api.webhook_url == url and not api.webhook.failures
