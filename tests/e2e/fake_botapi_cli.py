"""Standalone fake Bot API for manual runs: serve on a port and chat with the bot from stdin.

Lines typed are sent by one user; lines starting with "!" drive the fake instead:
!press <button text or index>, !photo [caption], !location <lat> <lon>, !contact <phone>,
!fail <method|*> <code> [times], !block, !unblock, !calls.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import threading
from typing import Any

from tests.e2e.fake_botapi import FakeBotAPI, RateLimits, UserHandle


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.e2e.fake_botapi",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default=None, help="accept only this bot token")
    parser.add_argument("--user", default="王芳", help="name of the person typing on stdin")
    parser.add_argument("--user-id", type=int, default=None)
    parser.add_argument("--language", default="zh-hans")
    parser.add_argument(
        "--rate-limit",
        type=float,
        default=None,
        metavar="SCALE",
        help="enforce Telegram's flood limits scaled by SCALE",
    )
    parser.add_argument("--no-privacy", action="store_true", help="bot sees all group messages")
    return parser.parse_args(argv)


def _stdin_lines(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str | None]) -> None:
    """Blocking reader on a daemon thread, so Ctrl-C never waits for a pending readline."""
    for line in sys.stdin:
        loop.call_soon_threadsafe(queue.put_nowait, line.rstrip("\n"))
    loop.call_soon_threadsafe(queue.put_nowait, None)


def _show(message: dict[str, Any], verb: str = "bot") -> None:
    body = (
        message.get("text")
        or message.get("caption")
        or next((k for k in ("photo", "document", "location") if k in message), "?")
    )
    print(f"[{verb} #{message['message_id']}] {body}", flush=True)
    for row in message.get("reply_markup", {}).get("inline_keyboard", []):
        print("    " + " | ".join(f"[{b['text']}]" for b in row), flush=True)


async def echo_bot_messages(api: FakeBotAPI, chat_id: int) -> None:
    """Print every bot message to the stdin user as it arrives."""
    while True:
        with contextlib.suppress(AssertionError):  # an hour of silence is not an error here
            _show(await api.wait_for_message(chat_id, timeout=3600))


async def run_command(api: FakeBotAPI, user: UserHandle, line: str) -> None:
    """One "!" command from stdin."""
    word, _, rest = line[1:].partition(" ")
    args = rest.split()
    if word == "press":
        keyed = [m for m in api.messages_to(user) if m.get("reply_markup")]
        if not keyed:
            print("(no message with buttons)")
            return
        button: str | int = int(rest) if rest.strip().lstrip("-").isdigit() else rest.strip()
        await user.press(keyed[-1], button)
    elif word == "photo":
        await user.send_photo(caption=rest or None)
    elif word == "location":
        await user.send_location(float(args[0]), float(args[1]))
    elif word == "contact":
        await user.send_contact(args[0])
    elif word == "fail":
        method = None if args[0] == "*" else args[0]
        times = int(args[2]) if len(args) > 2 else 1
        api.fail_next(method, times=times, error=int(args[1]))
    elif word == "block":
        api.block(user)
    elif word == "unblock":
        api.unblock(user)
    elif word == "calls":
        for call in api.calls[-20:]:
            print(f"  {call.method} -> {call.status} {call.error or ''}")
    else:
        print(__doc__)


async def serve(args: argparse.Namespace) -> None:
    """Run until interrupted."""
    limits = RateLimits(scale=args.rate_limit) if args.rate_limit else None
    api = FakeBotAPI(
        host=args.host,
        port=args.port,
        token=args.token,
        rate_limit=limits,
        privacy_mode=not args.no_privacy,
    )
    user = api.user(args.user, args.user_id, args.language)
    async with api:
        print(f"fake Bot API listening on {api.url}", flush=True)
        print(f"TELEGRAM_API_BASE_URL={api.base_url}", flush=True)
        print(f"TELEGRAM_API_FILE_URL={api.file_url}", flush=True)
        print(f"typing as {user.name} (id {user.id}); '!help' lists commands", flush=True)
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[str | None] = asyncio.Queue()
        threading.Thread(target=_stdin_lines, args=(loop, queue), daemon=True).start()
        echo = asyncio.create_task(echo_bot_messages(api, user.chat_id))
        try:
            while (line := await queue.get()) is not None:
                if line.startswith("!"):
                    try:
                        await run_command(api, user, line)
                    except (ValueError, IndexError) as exc:
                        print(f"({exc})", flush=True)
                elif line.strip():
                    await user.send(line)
            await asyncio.Event().wait()  # stdin closed: keep serving until interrupted
        finally:
            echo.cancel()


def main(argv: list[str] | None = None) -> None:
    """Entry point for ``python -m tests.e2e.fake_botapi``."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(parse_args(argv)))
