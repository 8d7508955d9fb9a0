"""The fake Bot API of ``tests/e2e`` in a process of its own, for ``load_bench.py``'s runs over
loopback HTTP (its work then does not count against the measured bot, as Telegram's would
not).

    python benchmarks/load_fake_server.py CHATS_FILE

``CHATS_FILE`` holds the chat ids the bots will write to, one per line (positive: people,
negative: group chats). Prints the base URL for ``Bot(base_url=...)`` on one line, then
serves until its standard input is closed.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the fake Bot API lives in tests/, which is not installed
    sys.path.insert(0, str(ROOT))

from tests.e2e.fake_botapi import FakeBotAPI  # noqa: E402


async def serve(chats: list[int]) -> None:
    """Register the chats, print the base URL, serve until stdin reaches its end."""
    async with FakeBotAPI() as api:
        for chat_id in chats:
            if chat_id > 0:
                api.user(f"用户{chat_id}", chat_id)
            else:
                api.group_chat(f"邻里群{-chat_id}", chat_id)
        print(api.base_url, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


if __name__ == "__main__":
    asyncio.run(serve([int(line) for line in Path(sys.argv[1]).read_text().split()]))
