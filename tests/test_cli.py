"""The command line as a user meets it: subprocesses of ``python bot.py``."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
BOT = str(ROOT / "bot.py")
DEMO_ORG = str(ROOT / "demo" / "org.yaml")


def run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``python bot.py ARGS`` in ``cwd`` with a clean Wulin environment."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "DATABASE_URL", "WEBHOOK_", "TIMEZONE"))
    }
    clean.update(env)
    return subprocess.run(
        [sys.executable, BOT, *args],
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_help_lists_subcommands(tmp_path: Path) -> None:
    """--help shows run, demo, db, org and faq."""
    out = run(["--help"], tmp_path).stdout
    for name in ("run", "demo", "db", "org"):
        assert name in out


def test_run_without_token_exits_2_with_how_to(tmp_path: Path) -> None:
    """`run` without a token exits 2 and says how to get one."""
    result = run(["run"], tmp_path)
    assert result.returncode == 2
    assert "@BotFather" in result.stderr and "TELEGRAM_BOT_TOKEN" in result.stderr


def test_invalid_timezone_is_refused_at_start(tmp_path: Path) -> None:
    """A bad TIMEZONE stops any command with a message naming the variable."""
    result = run(["db", "upgrade"], tmp_path, TIMEZONE="Mars/Olympus")
    assert (
        result.returncode == 2 and "TIMEZONE" in result.stderr and "Mars/Olympus" in result.stderr
    )


def test_db_upgrade_creates_the_default_sqlite_file(tmp_path: Path) -> None:
    """`db upgrade` on a fresh machine creates ./data/wulin.sqlite3 at the newest revision."""
    result = run(["db", "upgrade"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "wulin.sqlite3").exists()


def test_org_import_twice_and_invites(tmp_path: Path) -> None:
    """Import is idempotent; invites list every group; --json is machine-readable."""
    first = run(["org", "import", DEMO_ORG], tmp_path)
    second = run(["org", "import", DEMO_ORG], tmp_path)
    assert first.returncode == 0 and "created" in first.stdout
    assert "created nothing; updated nothing" in second.stdout
    listing = json.loads(run(["org", "invites", "--json"], tmp_path).stdout)
    groups = [i for i in listing if i["kind"] == "group"]
    assert len(groups) == 5
    assert all(i["link"].startswith("https://t.me/your_wulin_bot?start=") for i in listing)
    assert {i["person"] for i in listing if i["kind"] == "personal"} >= {"王芳", "张伟", "李敏"}


def test_org_import_bad_file_names_line_and_writes_nothing(tmp_path: Path) -> None:
    """A bad field exits non-zero naming file, line and field, and leaves the DB empty."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        Path(DEMO_ORG).read_text(encoding="utf-8").replace('"13800000006"', '"bad"'),
        encoding="utf-8",
    )
    result = run(["org", "import", str(bad)], tmp_path)
    assert result.returncode == 1
    assert "bad.yaml" in result.stderr and "line" in result.stderr and "phone" in result.stderr
    assert "nothing was imported" in result.stderr
    export = run(["org", "export"], tmp_path)
    assert export.returncode == 1 and "nothing to export" in export.stderr


def test_org_export_csv_reimports(tmp_path: Path) -> None:
    """`org export --format csv` produces a file that imports without changes."""
    run(["org", "import", DEMO_ORG], tmp_path)
    assert run(["org", "export", "--format", "csv", "-o", "org.csv"], tmp_path).returncode == 0
    again = run(["org", "import", "org.csv"], tmp_path)
    assert again.returncode == 0 and "created nothing; updated nothing" in again.stdout


@pytest.mark.skipif(
    not any(Path(p).exists() for p in ("/usr/share/fonts/truetype/wqy",))
    and not os.environ.get("CJK_FONT_PATH"),
    reason="no CJK font installed (apt install fonts-wqy-microhei)",
)
def test_invite_posters(tmp_path: Path) -> None:
    """--qr writes one readable PNG poster per group."""
    run(["org", "import", DEMO_ORG], tmp_path)
    result = run(["org", "invites", "--qr", "posters"], tmp_path)
    assert result.returncode == 0, result.stderr
    files = sorted((tmp_path / "posters").glob("*.png"))
    assert len(files) == 5
    with Image.open(files[0]) as image:
        assert image.size == (874, 1240)


def test_revoke_replaces_a_group_code(tmp_path: Path) -> None:
    """`org revoke CODE` revokes and prints the replacement link."""
    run(["org", "import", DEMO_ORG], tmp_path)
    code = json.loads(run(["org", "invites", "--json"], tmp_path).stdout)[0]["code"]
    result = run(["org", "revoke", code], tmp_path)
    assert result.returncode == 0 and "new code" in result.stdout
    assert code not in run(["org", "invites"], tmp_path).stdout
    assert run(["org", "revoke", "nosuchcode"], tmp_path).returncode == 1


def test_revoke_takes_an_old_code_that_starts_with_a_dash(tmp_path: Path) -> None:
    """Codes made before they had to start with a letter or digit can still be revoked."""
    run(["org", "import", DEMO_ORG], tmp_path)
    code = json.loads(run(["org", "invites", "--json"], tmp_path).stdout)[0]["code"]
    with sqlite3.connect(tmp_path / "data" / "wulin.sqlite3") as db:
        db.execute("UPDATE invite_codes SET code = ? WHERE code = ?", ("-Old_code-123", code))
    result = run(["org", "revoke", "-Old_code-123"], tmp_path)
    assert result.returncode == 0 and "new code" in result.stdout, result.stderr


def test_settle_heap_freezes_what_was_loaded_at_start() -> None:
    """After start, what was loaded (e.g. the FAQ index) is out of the collector's sight,
    and young collections run every ``YOUNG`` allocations."""
    import gc

    from faq import Matcher, load_kb
    from handlers.faq import KB_DIR
    from handlers.heap import YOUNG, settle_heap

    matcher = Matcher(load_kb(KB_DIR))
    gc.unfreeze()
    before = gc.get_threshold()
    try:
        settle_heap()
        assert gc.get_freeze_count() > 10_000
        tracked = {id(o) for o in gc.get_objects()}  # frozen objects are not listed
        assert id(matcher) not in tracked and id(matcher.__dict__) not in tracked
        assert gc.get_threshold() == (YOUNG, before[1], before[2])
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_outbox_retry_settings_reach_the_sender(tmp_path: Path) -> None:
    """OUTBOX_RETRY_HOURS and OUTBOX_MAX_ATTEMPTS (environment) configure the sender."""
    from datetime import timedelta

    from bot import build_runtime
    from settings import Settings

    settings = Settings(
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'w.db'}",
        outbox_retry_hours=6,
        outbox_max_attempts=3,
    )
    runtime, _engine = build_runtime(settings)
    assert runtime.sender.retry_for == timedelta(hours=6) and runtime.sender.max_attempts == 3
