"""Hypothesis strategies drawing fuzz actions (``tests/fuzz/actions.py``).

Text mixes random code points (no lone surrogates), RTL and zero-width characters, emoji
sequences, control characters, realistic questions and oversized (3,000–4,096 character)
messages; commands are real ones with fitting or random arguments and unknown ones; button
presses take real data from the bot's keyboards, data the bot sent anywhere, the features'
own prefixes with drawn pieces (ids far beyond the columns, impossible dates), or random
strings, then maybe mutate them.
"""

from __future__ import annotations

from hypothesis import strategies as st

from demo.seed import CAST
from tests.fuzz.actions import (
    ANONYMOUS_ADMIN,
    GROUP_CHATS,
    Action,
    ChannelPost,
    Chat,
    Command,
    Contact,
    Edited,
    InlineQuery,
    Location,
    Media,
    MemberChange,
    Person,
    Photo,
    Press,
    Text,
    Wait,
)

#: Demo identities by key (resident, newcomer, captain, captain2, grid, admin).
CAST_KEYS = tuple(i.key for i in CAST)
#: Commands the bot knows (and a few it does not).
REAL_COMMANDS = (
    "start", "help", "me", "lang", "mycaptain", "leave", "forgetme", "report", "cancel",
    "ack", "resolve", "reject", "escalate", "myreports", "reports", "escalated", "away",
    "linkgroup", "export", "stats", "checkin", "checkins", "holiday", "schedule", "meeting",
    "minutes", "faq", "faqanswers", "unanswered",
)  # fmt: skip
#: Callback data templates of every feature; ``{}`` are filled with drawn pieces.
TEMPLATES = (
    "rep:{verb}:{n}", "rep:fix:{n}:{yn}", "rep:cat:{n}:{cat}", "rep:none", "rep:wdy:{n}",
    "rn:c:{cat}", "rn:x", "rn:pd", "rn:lh", "rn:lb", "rn:ln", "rn:b:{n}", "rn:ok", "rn:ec",
    "rn:ed", "rn:f:{n}", "rn:n", "ci:{ci}:{date}", "mt:{yn}:{n}", "mt:a:{n}:{n}",
    "fb:{entry}:{yn}", "fq:s:{entry}", "fq:e:{entry}", "fq:t:{topic}", "fq:back", "fq:fw",
    "fq:ans:{n}", "fq:pr:{n}", "join:b:{n}", "join:skip", "join:move:{n}", "join:stay",
    "forget:yes:{token}", "forget:no", "leave:yes:{token}", "leave:no", "me:building",
    "lang:{lang}", "rl:{n}", "el:{n}:{status}:{cat}:{n}", "ef:{scg}:{n}:{status}:{cat}:{n}",
)  # fmt: skip
VERBS = ("ack", "prog", "res", "rej", "esc", "up", "back", "wd", "add", "dup", "v", "fix", "wdy")
CATEGORIES = ("sanitation", "repairs", "safety", "dispute", "property", "other", "x", "")
ENTRY_IDS = ("wulin_party_building", "neighbour_group", "captain_what", "no_such_entry", "")
TOPICS = ("wulin", "captains", "services", "nonexistent", "")
INVITE_CODES = (
    "demo-heping", "demo-chunshen", "demo-huayuan", "demo-xinyuan", "demo-donghu",
    "demo-staff-0003", "demo-staff-0005", "demo-staff-0002", "demo-staff-0001", "demo-staff-0004",
)  # fmt: skip


RTL = ("مرحبا بالعالم", "שלום עולם", "\u202eevil\u202c", "\u200fالمصعد معطل\u200f")
ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\ufeff", "\u2060", "\u00ad")
EMOJI = ("👍🏻", "🏘", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇨🇳", "🔥" * 5, "\U0001f9d1\u200d\U0001f527", "e\u0301")
PHRASES = (
    "楼道灯坏了", "什么是邻长", "怎么报名志愿者", "3栋门口垃圾没人清", "网格员是谁", "停水了吗",
    "邻长怎么选的", "党群服务中心在哪里", "周末有活动吗", "电梯坏了好几天了", "你好", "谢谢",
    "how do I join a volunteer team", "what is a neighbour captain", "吾鄰黨建是什麼",
    "'; DROP TABLE reports; --", "<b>bold</b> *md* _x_ [a](http://x)", "%s %(name)s {0} {x}",
    "\\", "null", "NaN", "0", "-1", "9" * 30, "/start", "#1", "@wulin_demo_bot",
)  # fmt: skip
# Every code point except lone surrogates (Telegram's UTF-8 JSON cannot carry them).
any_char = st.characters(codec="utf-8", exclude_categories=("Cs",))
controls = st.sampled_from([chr(c) for c in (*range(1, 32), 127, *range(0x80, 0xA0))])
fragment = st.one_of(
    st.text(any_char, min_size=1, max_size=30),
    st.sampled_from(PHRASES),
    st.sampled_from(RTL),
    st.sampled_from(ZERO_WIDTH),
    st.sampled_from(EMOJI),
    controls,
    st.just("\n"),
    st.just(" "),
)


def _telegram_text(parts: list[str]) -> str:
    # Telegram trims messages and refuses empty ones; it counts at most 4,096 characters.
    text = "".join(parts).strip()[:4096].strip()
    return text or "?"


short_text = st.lists(fragment, min_size=1, max_size=6).map(_telegram_text)


@st.composite
def oversized_text(draw: st.DrawFn) -> str:
    """A long text (3,000 to 4,096 characters) made by repeating drawn fragments."""
    unit = "".join(draw(st.lists(fragment, min_size=1, max_size=4))) or "x"
    length = draw(st.integers(3000, 4096))
    return _telegram_text([unit * (length // len(unit) + 1)])[:length].strip() or "?"


message_text = st.one_of(short_text, short_text, short_text, oversized_text())
caption_text = st.one_of(st.none(), short_text.map(lambda t: t[:1024]))
numbers = st.one_of(
    st.integers(0, 12).map(str),
    st.integers(0, 2**31 + 10).map(str),
    st.sampled_from(["2147483647", "2147483648", "9999999999", "9223372036854775808", "-1"]),
    st.integers(1, 60).map(lambda n: "9" * n),
    st.integers(1, 5).map(lambda n: "0" * n + "1"),
)
dates = st.one_of(
    st.just("20261201"),
    st.just("20261202"),
    st.sampled_from(["20261399", "20260230", "00000000", "99999999", "20261232"]),
    st.integers(0, 99_999_999).map(lambda n: f"{n:08d}"),
)
piece_values = {
    "verb": st.sampled_from(VERBS),
    "n": numbers,
    "yn": st.sampled_from(["y", "n", "x", ""]),
    "cat": st.sampled_from(CATEGORIES),
    "ci": st.sampled_from(["ok", "issue", "leave", "no"]),
    "date": dates,
    "entry": st.sampled_from(ENTRY_IDS),
    "topic": st.sampled_from(TOPICS),
    "token": st.one_of(st.text("abcXYZ019_-", max_size=12), st.just("")),
    "lang": st.sampled_from(["zh", "en", "menu", "fr", ""]),
    "status": st.sampled_from(["", "new", "resolved", "bogus"]),
    "scg": st.sampled_from(["s", "c", "g", "x"]),
}


@st.composite
def _pieces(draw: st.DrawFn, template: str) -> tuple[str, ...]:
    names = [p.split("}")[0] for p in template.split("{")[1:]]
    return tuple(draw(piece_values[name]) for name in names)


@st.composite
def press_data(draw: st.DrawFn) -> tuple[str, str, tuple[str, ...], str, str, str]:
    """(data source, template, pieces, random data, mutation, mutation argument)."""
    source = draw(
        st.sampled_from(["button"] * 7 + ["known"] * 3 + ["template"] * 7 + ["random"] * 3)
    )
    template = draw(st.sampled_from(TEMPLATES))
    pieces = draw(_pieces(template)) if source == "template" else ()
    random_data = draw(st.text(any_char, max_size=80)) if source == "random" else ""
    mutation = draw(
        st.sampled_from(
            ["none"] * 6 + ["truncate", "append", "replace", "replace", "digits", "upper", "pad"]
        )
    )
    arg = draw(st.one_of(numbers, st.text(any_char, max_size=8))) if mutation != "none" else ""
    return source, template, pieces, random_data, mutation, arg


name_text = st.one_of(
    st.sampled_from(["小张", "Ann", "王 芳", "\u202eevil", "👨‍👩‍👧", "a" * 64]),
    st.text(any_char, min_size=1, max_size=64).filter(lambda s: s.strip()),
)
strangers = st.builds(
    Person,
    cast=st.none(),
    user_id=st.one_of(st.integers(5_000_001, 5_000_004), st.integers(1, 2**52)),
    first_name=name_text,
    last_name=st.one_of(st.none(), name_text),
    language_code=st.sampled_from([None, "zh-hans", "en", "en-US", "ar", "zh-hant", "xx"]),
)
#: Anonymous group admins write as Telegram's "Group" bot (with ``sender_chat``).
anonymous_admin = st.just(Person(user_id=ANONYMOUS_ADMIN, first_name="Group", is_bot=True))
people = st.one_of(
    st.sampled_from(CAST_KEYS).map(lambda key: Person(cast=key)),
    st.sampled_from(CAST_KEYS).map(lambda key: Person(cast=key)),
    strangers,
    anonymous_admin,
)
chats = st.one_of(
    st.just(Chat()),
    st.just(Chat()),
    st.just(Chat()),
    st.sampled_from(GROUP_CHATS).map(Chat),
    st.integers(-(10**13), -1).map(Chat),
)
group_ids = st.one_of(st.sampled_from(GROUP_CHATS), st.integers(-(10**13), -1))


def _command_args(name: str) -> st.SearchStrategy[str]:
    useful = {
        "start": st.sampled_from(INVITE_CODES),
        "ack": numbers,
        "resolve": st.tuples(numbers, short_text).map(" ".join),
        "reject": st.tuples(numbers, short_text).map(" ".join),
        "escalate": st.tuples(numbers, short_text).map(" ".join),
        "report": message_text,
        "away": st.sampled_from(["12-01 12-05", "2026-12-01 2026-12-03", "off", "13-45 00-00"]),
        "lang": st.sampled_from(["zh", "en", "fr"]),
        "meeting": st.sampled_from(["set 3 19:00 活动室", "skip 2026-12-02", "set 9 25:99 x"]),
        "holiday": st.sampled_from(["add 2026-12-03", "remove 2026-12-03", "add 2026-02-30"]),
        "schedule": st.sampled_from(["checkin 08:30", "nudge 99:99", "every_day on"]),
        "checkins": st.sampled_from(["7", "0", "91", "99999999999999999999"]),
        "export": st.sampled_from(["2026-11-01 2026-12-31", "2026-12-31 2026-01-01", "x y"]),
        "minutes": message_text,
        "checkin": short_text,
    }
    return st.one_of(st.just(""), short_text, useful.get(name, short_text))


@st.composite
def commands(draw: st.DrawFn) -> Command:
    """A command, known or not, with arguments fit for it or not."""
    name = draw(
        st.one_of(
            st.sampled_from(REAL_COMMANDS),
            st.sampled_from(REAL_COMMANDS),
            st.from_regex(r"[a-zA-Z0-9_]{1,32}", fullmatch=True),
        )
    )
    suffix = draw(st.sampled_from(["", "", "", "@wulin_demo_bot", "@other_bot"]))
    return Command(draw(people), draw(chats), name, suffix, draw(_command_args(name.lower())))


@st.composite
def presses(draw: st.DrawFn) -> Press:
    """A button press."""
    source, template, pieces, random_data, mutation, arg = draw(press_data())
    target = draw(st.sampled_from(["last", "last", "any", "inaccessible"]))
    where = draw(
        st.one_of(st.just(Chat()), st.just(Chat()), st.sampled_from(GROUP_CHATS).map(Chat))
    )
    return Press(
        who=draw(people),
        where=where,
        target=target,
        pick=draw(st.integers(0, 50)),
        data=source,
        template=template,
        pieces=pieces,
        random_data=random_data,
        mutation=mutation,
        mutation_arg=arg,
    )


latitudes = st.one_of(
    st.sampled_from([32.6264, 32.63, 90.0, -90.0, 0.0, 1e-300, -0.0]),
    st.floats(-90, 90, allow_nan=False),
)
longitudes = st.one_of(
    st.sampled_from([116.9993, 180.0, -180.0, 0.0]),
    st.floats(-180, 180, allow_nan=False),
)
others: st.SearchStrategy[Action] = st.one_of(
    st.builds(
        Text,
        who=people,
        where=chats,
        text=message_text,
        mention=st.booleans(),
        reply_to_bot=st.booleans(),
    ),
    st.builds(Text, who=people, where=st.just(Chat()), text=message_text),
    st.builds(
        Photo,
        who=people,
        where=chats,
        caption=caption_text,
        file_id=st.text("abcdefABCDEF0123456789-_", min_size=1, max_size=80),
    ),
    st.builds(Location, who=people, where=chats, latitude=latitudes, longitude=longitudes),
    st.builds(
        Contact,
        who=people,
        where=chats,
        phone=st.one_of(
            st.sampled_from(["13800000003", "+8613800000005", "13800000004", "13900000012"]),
            st.text("+0123456789 -()", min_size=1, max_size=20),
            short_text,
        ),
        user_id=st.one_of(st.just(-1), st.just(-1), st.none(), st.integers(1, 2**52)),
    ),
    st.builds(
        Media,
        who=people,
        where=chats,
        kind=st.sampled_from(["sticker", "voice", "document", "dice", "video_note", "poll"]),
    ),
    st.builds(
        Edited,
        who=people,
        where=chats,
        message_id=st.integers(1, 10**6),
        text=message_text,
        command=st.booleans(),
    ),
    st.builds(ChannelPost, text=short_text, edited=st.booleans()),
    st.builds(
        MemberChange,
        who=people,
        group=group_ids,
        status=st.sampled_from(["member", "administrator", "left", "kicked"]),
    ),
    st.builds(InlineQuery, who=people, query=short_text),
    st.builds(Wait, seconds=st.sampled_from([1, 2, 30, 300, 1860, 3600, 3 * 3600])),
)
#: One action: about a third button presses, a quarter commands, the rest everything else.
actions: st.SearchStrategy[Action] = st.one_of(
    presses(), presses(), presses(), presses(), commands(), commands(), commands(),
    others, others, others, others,
)  # fmt: skip
#: A session of a few people acting, in any order.
sequences = st.lists(actions, min_size=4, max_size=30)
