"""The ``faq`` subcommands of ``bot.py``: ask (text or JSON lines), check, unanswered.

``faq ask --json`` prints one object per question::

    {"question": ..., "answer": <text, or null without a confident answer>, "score": ...,
     "matched_id": <entry id, or null>, "suggestions": [{"id": ..., "question": ..., "score": ...}]}
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from settings import Settings


def add_subcommands(sub: Any) -> None:
    """Register ``faq`` on the main parser."""
    faq = sub.add_parser("faq", help="the FAQ: ask, check the knowledge base, unanswered questions")
    faq_sub = faq.add_subparsers(title="faq commands", metavar="ACTION", required=True)
    ask = faq_sub.add_parser("ask", help='answer a question: faq ask "邻长是怎么选出来的"')
    ask.add_argument("question", help="the question, or - to read one question per line from stdin")
    ask.add_argument("--json", action="store_true", help="one JSON object per question")
    ask.add_argument("--community", metavar="ID", help="also use this community's local entries")
    ask.add_argument(
        "--lang", choices=("zh", "en"), help="answer language for text without letters"
    )
    ask.set_defaults(func=_cmd_ask)
    check = faq_sub.add_parser("check", help="validate the knowledge base (exit 1 on problems)")
    check.set_defaults(func=_cmd_check)
    unanswered = faq_sub.add_parser(
        "unanswered", help="questions the bot could not answer, with counts"
    )
    unanswered.add_argument("--community", metavar="ID", help="only this community")
    unanswered.add_argument("--limit", type=_count, default=50, help="at most this many rows")
    unanswered.set_defaults(func=_cmd_unanswered)


def _count(text: str) -> int:
    """A non-negative whole number (argparse type)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def _matcher(settings: Settings) -> Any:
    from faq import KBError, Matcher, load_kb
    from handlers.faq import KB_DIR, thresholds_from

    try:
        kb = load_kb(settings.faq_kb_dir or KB_DIR)
    except KBError as exc:
        print(f"wulin: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    return Matcher(kb, thresholds_from(settings))


def result_json(question: str, result: Any) -> dict[str, Any]:
    """The JSON object of one answered (or not) question."""
    entry = result.entry
    return {
        "question": question,
        "answer": (entry.answer.get(result.lang) or entry.answer["zh"])
        if entry is not None
        else None,
        "score": round(result.score, 2),
        "matched_id": entry.id if entry is not None else None,
        "suggestions": [
            {
                "id": s.entry.id,
                "question": s.entry.question.get(result.lang) or s.entry.question["zh"],
                "score": round(s.score, 2),
            }
            for s in result.suggestions
            if entry is None or s.entry.id != entry.id
        ],
    }


def _cmd_ask(settings: Settings, args: argparse.Namespace) -> int:
    matcher = _matcher(settings)
    questions = (
        (line.rstrip("\n") for line in sys.stdin) if args.question == "-" else iter([args.question])
    )
    for question in questions:
        result = matcher.match(question, lang=args.lang, community=args.community)
        if args.json:
            print(json.dumps(result_json(question, result), ensure_ascii=False), flush=True)
            continue
        if result.outcome == "answer":
            print(result.entry.answer.get(result.lang) or result.entry.answer["zh"])
        elif result.outcome == "suggest":
            print(
                "没有确定的答案。你是不是想问："
                if result.lang == "zh"
                else "No confident answer. Did you mean:"
            )
            for s in result.suggestions:
                shown = s.entry.question.get(result.lang) or s.entry.question["zh"]
                print(f"  - {shown} ({s.entry.id})")
        else:
            print(
                "抱歉，这个问题我回答不了。"
                if result.lang == "zh"
                else "Sorry, I cannot answer that."
            )
    return 0


def _cmd_check(settings: Settings, args: argparse.Namespace) -> int:
    from faq import check_kb
    from handlers.faq import KB_DIR, thresholds_from

    problems = check_kb(settings.faq_kb_dir or KB_DIR, thresholds_from(settings))
    for problem in problems:
        print(f"{'error' if problem.fatal else 'problem'}: {problem}", file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s) in the knowledge base", file=sys.stderr)
        return 1
    print("knowledge base OK")
    return 0


def _cmd_unanswered(settings: Settings, args: argparse.Namespace) -> int:
    from storage import faq_store
    from storage.engine import create_engine, make_sessionmaker
    from storage.migrate import upgrade_to_head

    async def work() -> list[Any]:
        engine = create_engine(settings.database_url)
        try:
            await upgrade_to_head(engine)
            async with make_sessionmaker(engine).begin() as session:
                codes = (args.community,) if args.community else None
                return await faq_store.unanswered(
                    session=session, community_codes=codes, limit=args.limit
                )
        finally:
            await engine.dispose()

    rows = asyncio.run(work())
    if not rows:
        print("no unanswered questions recorded")
    for row in rows:
        print(f"{row.count:>5}  {row.community or '-':<12} {row.lang}  {row.sample}")
    return 0
