"""What a fuzzed person does, as plain data (``tests/fuzz/strategies.py`` draws them).

An action names *who* does *what* *where*; ``tests/fuzz/driver.py`` turns it into Telegram's
JSON against the bot's current state (a button press picks a real bot message and its real
or mutated callback data at run time), so generated sequences can walk real flows, press
buttons out of order, or forge data, and hypothesis can still shrink them.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Group chats the bot is in (never linked at start) and one basic group.
GROUP_CHATS = (-1001000000001, -1001000000002, -400001)
#: Telegram's stand-in sender of anonymous group admins' messages.
ANONYMOUS_ADMIN = 1087968824


# -- people and places ---------------------------------------------------------------------
@dataclass(frozen=True)
class Person:
    """A sender: a demo identity (``cast``), or a stranger with this id and profile."""

    cast: str | None = None
    user_id: int = 0
    first_name: str = "x"
    last_name: str | None = None
    language_code: str | None = None
    is_bot: bool = False


@dataclass(frozen=True)
class Chat:
    """Where: the sender's private chat (``group`` None) or a group chat id."""

    group: int | None = None


# -- actions -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Text:
    """A text message; ``mention`` puts @the_bot in it, ``reply_to_bot`` replies to the bot."""

    who: Person
    where: Chat
    text: str
    mention: bool = False
    reply_to_bot: bool = False


@dataclass(frozen=True)
class Command:
    """``/name[@suffix] args`` with its bot_command entity."""

    who: Person
    where: Chat
    name: str
    suffix: str
    args: str


@dataclass(frozen=True)
class Photo:
    """A photo, maybe with a caption."""

    who: Person
    where: Chat
    caption: str | None
    file_id: str


@dataclass(frozen=True)
class Location:
    """A location pin."""

    who: Person
    where: Chat
    latitude: float
    longitude: float


@dataclass(frozen=True)
class Contact:
    """A shared contact; ``user_id`` None = not a Telegram user, -1 = the sender's own."""

    who: Person
    where: Chat
    phone: str
    user_id: int | None


@dataclass(frozen=True)
class Media:
    """Something that is not text: sticker, voice, document, dice, video note, poll."""

    who: Person
    where: Chat
    kind: str


@dataclass(frozen=True)
class Edited:
    """An edit of an earlier message (by id; it may never have existed)."""

    who: Person
    where: Chat
    message_id: int
    text: str
    command: bool


@dataclass(frozen=True)
class Press:
    """A button press on a bot message (picked at run time) with real, mutated or forged data."""

    who: Person
    where: Chat
    # "last" (newest with buttons), "any" (the pick-th bot message) or "inaccessible" (the
    # pick-th, too old for Telegram to include: date 0, no content).
    target: str
    pick: int
    # "button" (a button of the target), "known" (any data the bot ever sent), "template"
    # (a feature's prefix with drawn pieces) or "random"; then the mutation.
    data: str
    template: str
    pieces: tuple[str, ...]
    random_data: str
    mutation: str
    mutation_arg: str


@dataclass(frozen=True)
class ChannelPost:
    """A channel post or its edit: an update without any user."""

    text: str
    edited: bool


@dataclass(frozen=True)
class MemberChange:
    """The bot added to or removed from a group (``my_chat_member``)."""

    who: Person
    group: int
    status: str


@dataclass(frozen=True)
class InlineQuery:
    """An inline query (the bot does not offer inline mode)."""

    who: Person
    query: str


@dataclass(frozen=True)
class Wait:
    """Time passes; due jobs (report timers, reminders, flow timeouts) run."""

    seconds: int


Action = (
    Text | Command | Photo | Location | Contact | Media | Edited | Press | ChannelPost
    | MemberChange | InlineQuery | Wait
)  # fmt: skip
