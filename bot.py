"""Wulin command line and composition root.

settings → engine → Application → handlers → jobs → run.  ``python bot.py --help`` lists
the subcommands: ``run`` (the real bot), ``demo`` (offline console), ``db``, ``org``, ``faq``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import warnings
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError
from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ContextTypes,
    Defaults,
    TypeHandler,
)
from telegram.request import BaseRequest
from telegram.warnings import PTBUserWarning

from faq import KBError, load_kb
from handlers import all_handlers
from handlers.context import RUNTIME_KEY, Runtime, WulinContext, preload_actor
from handlers.errors import error_handler
from handlers.faq import KB_DIR, refresh_faq
from handlers.flood import flood_guard
from handlers.heap import settle_heap
from handlers.metrics import Metrics, count_end, count_start, serve
from handlers.ordering import PerUserUpdateProcessor
from handlers.persistence import DbPersistence
from locales import translate
from render.fonts import find_cjk_font
from scheduler.clock import Clock, SystemClock
from scheduler.jobs import catch_up_all, register_jobs
from scheduler.sender import OutboxSender
from settings import Settings
from storage.engine import create_engine, make_reader, make_sessionmaker

log = logging.getLogger("wulin")

NO_TOKEN = (
    "TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather in Telegram (/newbot), then "
    "put TELEGRAM_BOT_TOKEN=<the token it gives you> in the environment or in a .env file "
    "(or try everything offline first with: python bot.py demo)."
)
#: Commands shown in Telegram's menu, per language.
MENU = ("start", "help", "me", "mycaptain", "lang", "cancel")


def build_runtime(settings: Settings, *, clock: Clock | None = None) -> tuple[Runtime, Any]:
    """Engine, session factory, clock and outbox sender; returns (runtime, engine)."""
    engine = create_engine(settings.database_url)
    db = make_sessionmaker(engine)
    clock = clock or SystemClock()
    sender = OutboxSender(
        db=db,
        clock=clock,
        default_language=settings.default_language,
        batch_size=settings.outbox_batch_size,
        max_attempts=settings.outbox_max_attempts,
        retry_for=settings.outbox_retry_for,
        tz=settings.tz,
        font=find_cjk_font(settings.cjk_font_path),
    )
    runtime = Runtime(settings=settings, db=db, clock=clock, sender=sender)
    runtime.reader = make_reader(engine)
    return runtime, engine


#: Telegram's limits for one bot: 30 messages/s overall, 20 per minute in one group chat.
TELEGRAM_PER_SECOND, TELEGRAM_GROUP_PER_MINUTE = 30, 20
#: Stay a little under them: at exactly the limit a sender that keeps up gets 429s.
HEADROOM = 0.95


def rate_limiter(share: float = 1.0, scale: float = 1.0) -> AIORateLimiter:
    """PTB's limiter at ``share`` of Telegram's limits (minus headroom), retrying 429s.

    ``scale`` multiplies Telegram's limits themselves: only for a stand-in that enforces
    scaled-up limits (benchmarks).
    """
    factor = share * HEADROOM * scale
    return AIORateLimiter(
        overall_max_rate=TELEGRAM_PER_SECOND * factor,
        overall_time_period=1,
        group_max_rate=TELEGRAM_GROUP_PER_MINUTE * factor,
        group_time_period=60,
        max_retries=3,
    )


def build_application(
    runtime: Runtime,
    *,
    request: BaseRequest | None = None,
    rate_limit: bool = True,
    with_updater: bool = True,
    rate_scale: float = 1.0,
) -> Application:  # type: ignore[type-arg]
    """The PTB Application with every handler, the error handler and the runtime attached."""
    settings = runtime.settings
    builder = (
        ApplicationBuilder()
        .token(settings.token or "0:offline")
        .base_url(settings.telegram_api_base_url)
        .base_file_url(settings.telegram_api_file_url)
        .context_types(ContextTypes(context=WulinContext))
        .defaults(
            Defaults(tzinfo=settings.tz, link_preview_options=LinkPreviewOptions(is_disabled=True))
        )
        .post_init(_post_init)
        .post_stop(_post_stop)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    else:
        builder = builder.connection_pool_size(settings.telegram_connection_pool).pool_timeout(
            settings.telegram_pool_timeout
        )
    if settings.concurrent_updates > 1:
        # Several people at once, each person's updates in order (handlers/ordering.py).
        builder = builder.concurrent_updates(PerUserUpdateProcessor(settings.concurrent_updates))
    # Conversation states and drafts survive restarts (see handlers/persistence.py).
    builder = builder.persistence(DbPersistence(runtime.db, runtime.clock))
    if rate_limit:
        # Telegram's limits (30/s overall, 1/s per chat, 20/min per group); retry 429s a
        # few times here, the outbox retries later on top of that.
        builder = builder.rate_limiter(rate_limiter(settings.rate_limit_share, rate_scale))
    if not with_updater:
        builder = builder.updater(None)
    # Conversations are tracked per user and chat on purpose (a resident may press buttons of
    # earlier messages); PTB warns about that choice for every ConversationHandler.
    warnings.filterwarnings("ignore", message=".*per_message=False.*", category=PTBUserWarning)
    app = builder.build()
    app.bot_data[RUNTIME_KEY] = runtime
    app.add_handler(TypeHandler(Update, flood_guard), group=-2)
    app.add_handler(TypeHandler(Update, preload_actor), group=-1)
    for group, handler in all_handlers():
        app.add_handler(handler, group=group)
    app.add_error_handler(error_handler)
    return app


async def _post_init(app: Application) -> None:  # type: ignore[type-arg]
    runtime: Runtime = app.bot_data[RUNTIME_KEY]
    runtime.bot_username = app.bot.username
    for lang, code in (("zh", None), ("zh", "zh"), ("en", "en")):
        commands = [BotCommand(c, translate(lang, f"menu.{c}")) for c in MENU]
        await app.bot.set_my_commands(commands, language_code=code)


async def _post_stop(app: Application) -> None:  # type: ignore[type-arg]
    task = app.bot_data.pop("sender_task", None)
    if task is not None:
        task.cancel()


def enable_metrics(app: Application, runtime: Runtime, port: int | None) -> Metrics:  # type: ignore[type-arg]
    """Count updates and outbox outcomes; serve them on ``port`` when given."""
    metrics = Metrics()
    runtime.extras["metrics"] = metrics
    runtime.sender.metrics = metrics
    app.add_handler(TypeHandler(Update, count_start, block=True), group=-3)
    app.add_handler(TypeHandler(Update, count_end, block=True), group=99)
    if port:
        serve(metrics, port)
    return metrics


def check_knowledge_base(settings: Settings) -> None:
    """Load the FAQ knowledge base once; raises ``KBError`` naming file and entry."""
    load_kb(settings.faq_kb_dir or KB_DIR)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the chosen subcommand; returns the exit status."""
    parser = _parser()
    words = list(sys.argv[1:] if argv is None else argv)
    if words[:2] == ["org", "revoke"] and len(words) == 3 and words[2] not in ("-h", "--help"):
        words.insert(2, "--")  # codes made before 2026-11-28 may start with "-"
    args = parser.parse_args(words)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        settings = Settings()
    except ValidationError as exc:
        for error in exc.errors():
            name = "_".join(str(p) for p in error["loc"]).upper() or "settings"
            print(f"wulin: invalid setting {name}: {error['msg']}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    return int(args.func(settings, args) or 0)


def _parser() -> argparse.ArgumentParser:
    import admin_cli

    parser = argparse.ArgumentParser(
        prog="python bot.py", description="吾邻 Wulin — the neighbourhood assistant bot"
    )
    sub = parser.add_subparsers(title="subcommands", metavar="COMMAND")
    run = sub.add_parser("run", help="run the real bot (long polling, or --webhook)")
    run.add_argument("--webhook", action="store_true", help="run PTB's webhook server instead")
    run.add_argument(
        "--metrics-port",
        type=int,
        metavar="PORT",
        help="serve Prometheus /metrics and /health on this port",
    )
    run.set_defaults(func=_cmd_run)
    admin_cli.add_subcommands(sub)
    return parser


def _cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    if not settings.token:
        print(f"wulin: {NO_TOKEN}", file=sys.stderr)
        return 2
    if args.webhook and not settings.webhook_url:
        print(
            "wulin: --webhook needs WEBHOOK_URL (the public https URL Telegram will call)",
            file=sys.stderr,
        )
        return 2
    from storage.migrate import upgrade_to_head

    try:
        check_knowledge_base(settings)
    except KBError as exc:
        print(
            f"wulin: the FAQ knowledge base is invalid: {exc} (run: python bot.py faq check)",
            file=sys.stderr,
        )
        return 2
    runtime, engine = build_runtime(settings)

    async def prepare() -> None:
        await upgrade_to_head(engine)
        # Connections belong to this event loop; the application opens its own.
        await engine.dispose()

    asyncio.run(prepare())
    if runtime.sender.font is None:
        from render.fonts import MISSING_HINT

        log.warning("weekly digest charts will show boxes for Chinese: %s", MISSING_HINT)
    app = build_application(runtime)
    if args.metrics_port:
        enable_metrics(app, runtime, args.metrics_port)

    async def start_sender(application: Application) -> None:  # type: ignore[type-arg]
        await _post_init(application)
        await refresh_faq(runtime)
        await register_jobs(application)
        # Reminders missed while the bot was down go out now if their window is still open.
        await catch_up_all(application.context_types.context(application=application))
        application.bot_data["sender_task"] = asyncio.create_task(
            runtime.sender.run_forever(application.bot, settings.outbox_poll_seconds)
        )
        settle_heap()

    app.post_init = start_sender
    updates = Update.ALL_TYPES
    if args.webhook:
        secret = (
            settings.webhook_secret_token.get_secret_value()
            if settings.webhook_secret_token
            else None
        )
        app.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=settings.webhook_path,
            webhook_url=settings.webhook_url.rstrip("/") + "/" + settings.webhook_path,
            secret_token=secret,
            allowed_updates=updates,
        )
    else:
        app.run_polling(allowed_updates=updates)
    return 0


if __name__ == "__main__":
    sys.exit(main())
