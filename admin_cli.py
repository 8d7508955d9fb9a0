"""The admin subcommands of ``bot.py``: ``db``, ``org`` and ``demo``.

Each runs in one transaction and prints what it did; errors are one clear line on stderr and
a non-zero exit status.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from settings import Settings
from storage.engine import create_engine, make_sessionmaker
from storage.migrate import current_revision, head_revision, upgrade_to_head

PLACEHOLDER_USERNAME = "your_wulin_bot"


def add_subcommands(sub: Any) -> None:
    """Register ``db``, ``org`` and ``demo`` on the main parser."""
    demo = sub.add_parser("demo", help="the offline console: try every feature without Telegram")
    demo.add_argument("--start", default=None, help="simulated start time, e.g. '2026-12-01 08:30'")
    demo.add_argument(
        "--db", default=None, help="SQLite file for the demo (default: a fresh temp file)"
    )
    demo.set_defaults(func=_cmd_demo)

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(title="db commands", metavar="ACTION", required=True)
    db_sub.add_parser("upgrade", help="apply migrations up to the newest").set_defaults(
        func=_cmd_db_upgrade
    )
    db_sub.add_parser("current", help="show the schema revision").set_defaults(func=_cmd_db_current)

    org = sub.add_parser("org", help="organisation: import, export, invite links and posters")
    org_sub = org.add_subparsers(title="org commands", metavar="ACTION", required=True)
    imp = org_sub.add_parser("import", help="import a YAML or CSV organisation file (idempotent)")
    imp.add_argument("file", type=Path)
    imp.set_defaults(func=_cmd_org_import)
    exp = org_sub.add_parser("export", help="write the organisation in the import format")
    exp.add_argument("--format", choices=("yaml", "csv"), default="yaml")
    exp.add_argument("-o", "--output", type=Path, help="file to write (default: standard output)")
    exp.set_defaults(func=_cmd_org_export)
    inv = org_sub.add_parser("invites", help="print every invite link")
    inv.add_argument("--json", action="store_true", help="one JSON array for machines")
    inv.add_argument(
        "--qr", type=Path, metavar="DIR", help="write a printable poster per group into DIR"
    )
    inv.set_defaults(func=_cmd_org_invites)
    rev = org_sub.add_parser(
        "revoke", help="revoke an invite code (a group gets a new one at once)"
    )
    rev.add_argument("code")
    rev.set_defaults(func=_cmd_org_revoke)

    import faq_cli

    faq_cli.add_subcommands(sub)


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _with_db(settings: Settings, work: Any) -> Any:
    engine = create_engine(settings.database_url)
    try:
        await upgrade_to_head(engine)
        return await work(make_sessionmaker(engine))
    finally:
        await engine.dispose()


def _cmd_db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    async def work() -> None:
        engine = create_engine(settings.database_url)
        try:
            await upgrade_to_head(engine)
            print(
                f"database at revision {await current_revision(engine)} (newest: {head_revision()})"
            )
        finally:
            await engine.dispose()

    _run(work())
    return 0


def _cmd_db_current(settings: Settings, args: argparse.Namespace) -> int:
    async def work() -> None:
        engine = create_engine(settings.database_url)
        try:
            print(f"database revision: {await current_revision(engine)}; newest: {head_revision()}")
        finally:
            await engine.dispose()

    _run(work())
    return 0


def _cmd_org_import(settings: Settings, args: argparse.Namespace) -> int:
    from storage.org import import_org
    from storage.orgfile import OrgFileError, load_org_file

    try:
        org = load_org_file(args.file)
    except OrgFileError as exc:
        print(f"wulin: {exc}; nothing was imported", file=sys.stderr)
        return 1

    async def work(db: Any) -> Any:
        from scheduler.clock import SystemClock

        async with db.begin() as session:
            return await import_org(session=session, org=org, now=SystemClock().now())

    summary = _run(_with_db(settings, work))
    created = ", ".join(f"{n} {k}" for k, n in sorted(summary.created.items())) or "nothing"
    updated = ", ".join(f"{n} {k}" for k, n in sorted(summary.updated.items())) or "nothing"
    print(f"imported {args.file}: created {created}; updated {updated}")
    for warning in summary.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def _cmd_org_export(settings: Settings, args: argparse.Namespace) -> int:
    from storage.org import export_org
    from storage.orgcsv import dump_csv
    from storage.orgfile import dump_yaml

    async def work(db: Any) -> Any:
        async with db.begin() as session:
            return await export_org(session=session)

    org = _run(_with_db(settings, work))
    if org is None:
        print(
            "wulin: nothing to export: import an organisation first (org import FILE)",
            file=sys.stderr,
        )
        return 1
    text = dump_csv(org) if args.format == "csv" else dump_yaml(org)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}")
    else:
        sys.stdout.write(text)
    return 0


async def bot_username(settings: Settings) -> str:
    """The bot's username from getMe when a token is set; else BOT_USERNAME or a placeholder."""
    if settings.bot_username:
        return settings.bot_username.lstrip("@")
    if not settings.token:
        return PLACEHOLDER_USERNAME
    from telegram import Bot
    from telegram.error import TelegramError

    try:
        async with Bot(settings.token, base_url=settings.telegram_api_base_url) as bot:
            return bot.username
    except TelegramError as exc:
        print(
            f"warning: could not ask Telegram for the bot's name ({exc}); using a placeholder",
            file=sys.stderr,
        )
        return PLACEHOLDER_USERNAME


def invite_link(username: str, code: str) -> str:
    """The deep link that opens the bot with ``/start <code>``."""
    return f"https://t.me/{username}?start={code}"


def _cmd_org_invites(settings: Settings, args: argparse.Namespace) -> int:
    from storage.org import list_invites

    async def work(db: Any) -> Any:
        from scheduler.clock import SystemClock

        async with db.begin() as session:
            return await list_invites(session=session, now=SystemClock().now())

    lines = _run(_with_db(settings, work))
    username = _run(bot_username(settings))
    if args.json:
        print(
            json.dumps(
                [_invite_json(line, username) for line in lines], ensure_ascii=False, indent=2
            )
        )
    else:
        for line in lines:
            link = invite_link(username, line.code)
            if line.kind == "group":
                print(f"group    {line.community}/{line.group} {line.group_name}: {link}")
            else:
                print(f"personal {line.community} {line.person} ({', '.join(line.roles)}): {link}")
    if args.qr:
        return _write_posters(settings, args.qr, lines, username)
    return 0


def _invite_json(line: Any, username: str) -> dict[str, Any]:
    return {
        "kind": line.kind,
        "community": line.community,
        "group": line.group,
        "group_name": line.group_name,
        "buildings": list(line.buildings),
        "person": line.person,
        "roles": list(line.roles),
        "code": line.code,
        "link": invite_link(username, line.code),
    }


def _write_posters(settings: Settings, directory: Path, lines: list[Any], username: str) -> int:
    from render.fonts import MISSING_HINT, find_cjk_font
    from render.posters import poster_filename, render_poster

    font = find_cjk_font(settings.cjk_font_path)
    if font is None:
        print(f"wulin: {MISSING_HINT}; posters not written", file=sys.stderr)
        return 1
    directory.mkdir(parents=True, exist_ok=True)
    groups = [line for line in lines if line.kind == "group"]
    for n, line in enumerate(groups, start=1):
        image = render_poster(
            group_name=line.group_name,
            community_name=line.community,
            buildings=list(line.buildings),
            link=invite_link(username, line.code),
            font=font,
        )
        path = directory / poster_filename(line.community, line.group)
        image.save(path, dpi=(150, 150))
        print(f"[{n}/{len(groups)}] poster {path}", file=sys.stderr)
    return 0


def _cmd_org_revoke(settings: Settings, args: argparse.Namespace) -> int:
    from storage.invites import revoke_code

    async def work(db: Any) -> Any:
        from scheduler.clock import SystemClock

        async with db.begin() as session:
            result = await revoke_code(session=session, code=args.code, now=SystemClock().now())
            return (
                None if result is None else (result[0].kind, result[1].code if result[1] else None)
            )

    result = _run(_with_db(settings, work))
    if result is None:
        print(f"wulin: no invite code {args.code!r}", file=sys.stderr)
        return 1
    kind, replacement = result
    username = _run(bot_username(settings))
    print(f"revoked {kind} code {args.code}")
    if replacement:
        print(f"new code: {invite_link(username, replacement)}")
    return 0


def _cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from demo.console import run_console

    return _run(run_console(settings, start=args.start, db_path=args.db))
