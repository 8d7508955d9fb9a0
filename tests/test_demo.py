"""The demo console driven by a script, as the README tells a newcomer to do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """:who
:as newcomer
/start demo-heping
:press 2
:press 跳过
:as resident
/help
:as captain
/mycaptain
:clock
:advance 1d
:quit
"""


def test_scripted_demo_session(tmp_path: Path) -> None:
    """Piped commands: a newcomer joins with a group code and building; /help for the resident."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_URL"))}
    result = subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), "demo"],
        input=SCRIPT,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "ERROR" not in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert "[bot → newcomer] 欢迎加入「和平里邻里小组」！请选择你住的楼栋：" in out
    assert "    [1] 1栋  [2] 2栋  [3] 3栋" in out
    assert "[bot → newcomer] (edited) 你住在 2栋" in out
    assert "[bot → newcomer] ✅ 已加入「和平里邻里小组」（2栋）" in out
    assert "[bot → resident] 🏘 吾邻社区助手" in out and "/mycaptain" in out
    assert "simulated time: 2026-12-02 08:30" in out
