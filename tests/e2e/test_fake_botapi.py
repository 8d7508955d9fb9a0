"""The fake Bot API answers a real PTB ``Bot`` the way Telegram would, failures included."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MessageEntity,
    Update,
)
from telegram.error import BadRequest, Conflict, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import CommandHandler

from tests.e2e.fake_botapi import BOT_USERNAME, FakeBotAPI
from tests.e2e.fake_botapi_media import sample_jpeg

TOKEN = "123:ABC"
# PTB itself reads RetryAfter.retry_after as an int while building the exception.
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"
)


async def _noop(update: object, context: object) -> None:
    """Callback for handlers that are only asked check_update."""


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


async def test_get_me_parses(bot):
    """getMe yields a bot User with username and group capabilities."""
    me = await bot.get_me()
    assert me.is_bot and me.username == BOT_USERNAME and me.id == 123
    assert me.can_join_groups is True


async def test_send_message_returns_message(api, bot):
    """send_message answers a Message from the bot, stored for messages_to."""
    user = api.user("王芳")
    message = await bot.send_message(user.id, "你好，王芳")
    assert message.text == "你好，王芳" and message.from_user.is_bot
    assert message.chat.id == user.id and message.message_id == 1
    assert [m["text"] for m in api.messages_to(user)] == ["你好，王芳"]
    assert api.calls_of("sendMessage")[0].params["chat_id"] == user.id


async def test_command_arrives_via_get_updates(api, bot):
    """A /start update parses in PTB with a bot_command entity CommandHandler accepts."""
    user = api.user("李雷")
    sent = await user.send("/start abc")
    updates = await bot.get_updates(timeout=1)
    assert [u.update_id for u in updates] == [sent["update_id"]]
    update = updates[0]
    assert update.message.text == "/start abc" and update.message.from_user.id == user.id
    entity = update.message.entities[0]
    assert (entity.type, entity.offset, entity.length) == (MessageEntity.BOT_COMMAND, 0, 6)
    assert CommandHandler("start", _noop).check_update(update)
    assert await bot.get_updates(offset=update.update_id + 1, timeout=0) == ()


async def test_command_with_bot_username_in_group(api, bot):
    """In a group a /cmd@bot passes privacy mode; plain chatter does not reach the bot."""
    group, user = api.group_chat("幸福里3栋"), api.user("张伟")
    chatter = await user.send_in(group, "大家好")
    command = await user.send_in(group, f"/help@{BOT_USERNAME} 请问")
    assert chatter.delivered is False and command.delivered is True
    (update,) = await bot.get_updates(timeout=1)
    assert update.message.entities[0].length == len(f"/help@{BOT_USERNAME}")
    assert CommandHandler("help", _noop).check_update(update)


async def test_press_yields_callback_query(api, bot):
    """Pressing a button gives a CallbackQuery with data, chat_instance and the message."""
    user = api.user()
    sent = await bot.send_message(
        user.id, "确认收到？", reply_markup=keyboard(("收到", "rep:ack:7"))
    )
    (message,) = api.messages_to(user)
    await user.press(message, "收到")
    (update,) = await bot.get_updates(timeout=1)
    query = update.callback_query
    assert query.data == "rep:ack:7" and query.chat_instance
    assert query.from_user.id == user.id and query.message.message_id == sent.message_id
    assert await query.answer("好的")
    assert api.answered_callbacks[0]["text"] == "好的"
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await query.answer("twice")


async def test_forged_callback_data(api, bot):
    """press(data=...) sends data that is on no button, as a forged client would."""
    user = api.user()
    await bot.send_message(user.id, "x", reply_markup=keyboard(("a", "a:1")))
    await user.press(api.messages_to(user)[0], data="a:999")
    (update,) = await bot.get_updates(timeout=1)
    assert update.callback_query.data == "a:999"


async def test_other_user_updates_parse(api, bot):
    """Photo, location, contact, sticker, voice and edits all parse as PTB Updates."""
    user = api.user()
    first = await user.send("旧文字")
    await user.send_photo(caption="漏水")
    await user.send_location(31.23, 121.47)
    await user.send_contact("+8613800000000")
    await user.send_sticker()
    await user.send_voice()
    await user.edit(first.message_id, "新文字")
    updates = await bot.get_updates(timeout=1)
    photo, location, contact = (u.message for u in updates[1:4])
    assert len(photo.photo) == 2 and photo.caption == "漏水" and photo.photo[-1].width == 64
    assert location.location.latitude == pytest.approx(31.23)
    assert contact.contact.user_id == user.id
    assert updates[4].message.sticker.emoji and updates[5].message.voice.mime_type == "audio/ogg"
    assert updates[6].edited_message.text == "新文字"
    photo_file = await bot.get_file(photo.photo[-1].file_id)
    assert bytes(await photo_file.download_as_bytearray()) == sample_jpeg()


async def test_long_poll_returns_when_update_arrives(api, bot):
    """An open getUpdates is held, then answered as soon as an update is injected."""
    user = api.user()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.3)
    assert not poll.done()
    await user.send("在吗")
    updates = await asyncio.wait_for(poll, 5)
    assert updates[0].message.text == "在吗"


async def test_second_poller_kicks_the_first(api, bot):
    """Two concurrent getUpdates: the older one gets 409 Conflict, as with two instances."""
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    async with Bot(token=TOKEN, base_url=api.base_url, base_file_url=api.file_url) as other:
        second = asyncio.create_task(other.get_updates(timeout=1))
        with pytest.raises(Conflict):
            await first
        assert await second == ()


async def test_fail_next_429_raises_retry_after(api, bot):
    """An injected 429 with retry_after becomes RetryAfter; the following call succeeds."""
    user = api.user()
    api.fail_next("sendMessage", error=429, retry_after=1)
    with pytest.raises(RetryAfter, match="Retry in 1"):
        await bot.send_message(user.id, "一")
    assert (await bot.send_message(user.id, "二")).text == "二"
    assert api.stats.rate_limited == 1 and [c.status for c in api.calls[-2:]] == [429, 200]


async def test_403_raises_forbidden_and_block(api, bot):
    """Injected 403 and a blocked user both give Forbidden until unblocked."""
    user = api.user()
    api.fail_next("sendMessage", error=403)
    with pytest.raises(Forbidden, match="blocked by the user"):
        await bot.send_message(user.id, "x")
    api.block(user)
    with pytest.raises(Forbidden):
        await bot.send_message(user.id, "x")
    api.unblock(user)
    assert (await bot.send_message(user.id, "x")).text == "x"


async def test_bot_cannot_write_first(api, bot):
    """A person who never wrote to the bot cannot be messaged (403)."""
    stranger = api.user("陌生人", started=False)
    with pytest.raises(Forbidden, match="initiate conversation"):
        await bot.send_message(stranger.id, "hi")
    await stranger.send("/start")
    assert await bot.send_message(stranger.id, "hi")


@pytest.mark.parametrize("code", [500, 502])
async def test_5xx_raises_network_error(api, bot, code):
    """5xx answers surface as NetworkError (which PTB treats as retryable)."""
    user = api.user()
    api.fail_next(error=code)
    with pytest.raises(NetworkError) as caught:
        await bot.send_message(user.id, "x")
    assert not isinstance(caught.value, BadRequest)


async def test_drop_and_delay(api, bot):
    """A dropped connection is a NetworkError; a slow answer times out yet still sends."""
    user = api.user()
    api.fail_next("sendMessage", drop=True)
    with pytest.raises(NetworkError):
        await bot.send_message(user.id, "dropped")
    assert api.messages_to(user) == []
    api.fail_next("sendMessage", delay=1.0)
    with pytest.raises(TimedOut):
        await bot.send_message(user.id, "slow", read_timeout=0.2)
    assert (await api.wait_for_message(user, "slow", timeout=5))["text"] == "slow"


async def _receiver(statuses: list[int]):
    """A tiny webhook endpoint answering the given statuses in turn (then 200)."""
    received: list[tuple[str | None, dict]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response(status=statuses.pop(0) if statuses else 200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    return runner, f"http://127.0.0.1:{port}/hook", received


async def test_webhook_delivers_with_secret_and_retries(api, bot):
    """With a webhook set, updates are POSTed with the secret header, retried after a 500."""
    runner, url, received = await _receiver([500])
    try:
        user = api.user()
        assert await bot.set_webhook(url, secret_token="s3cret_token")
        with pytest.raises(Conflict):
            await bot.get_updates(timeout=0)
        sent = await user.send("/start")
        for _ in range(100):
            if len(received) >= 2 and api.webhook.delivered:
                break
            await asyncio.sleep(0.05)
        assert [secret for secret, _ in received] == ["s3cret_token"] * 2
        update = Update.de_json(received[-1][1], bot)
        assert update.update_id == sent["update_id"] and update.message.text == "/start"
        info = await bot.get_webhook_info()
        assert info.url == url and info.pending_update_count == 0
        assert "500" in info.last_error_message
        assert await bot.delete_webhook()
        await user.send("polling again")
        assert (await bot.get_updates(timeout=1))[0].message.text == "polling again"
    finally:
        await runner.cleanup()
