"""Turns fuzz actions into Telegram updates for a started ``Harness``, resolved against
what the bot has sent so far (a press picks a real bot message of the chat and real,
remembered, template or random callback data), and feeds them through ``Harness.process``.
"""

from __future__ import annotations

import itertools
import json
import re
from datetime import timedelta
from typing import Any

from telegram import Update

from demo.stand_in import BOT_USER, BotMessage
from tests.fuzz import actions as a
from tests.fuzz import telegram_json as tj
from tests.harness import Harness, Reply


class Driver:
    """Turns actions into updates for one started ``Harness``."""

    def __init__(self, harness: Harness) -> None:
        self.harness = harness
        self.stand_in = harness.stand_in
        self.known: list[str] = []
        self._calls_seen = 0
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._ids = itertools.count(1)

    def message(self, person: a.Person, where: a.Chat, **content: Any) -> dict[str, Any]:
        """A message from ``person`` in ``where`` with ``content`` (next id, the clock's date)."""
        chat = tj.chat(person, where)
        counter = self._message_ids.setdefault(chat["id"], itertools.count(1))
        data: dict[str, Any] = {
            "message_id": next(counter),
            "date": self._date(),
            "chat": chat,
            "from": tj.user(person),
        }
        if person.user_id == a.ANONYMOUS_ADMIN and chat["type"] != "private":
            data["sender_chat"] = {k: chat[k] for k in ("id", "type", "title")}
        data.update(content)
        return data

    def _date(self) -> int:
        return int(self.harness.now().timestamp())

    # -- state of the conversation -----------------------------------------------------------
    def _learn_callback_data(self) -> None:
        for call in self.stand_in.calls[self._calls_seen :]:
            markup = call.params.get("reply_markup")
            if isinstance(markup, str):
                markup = json.loads(markup)
            for row in (
                (markup or {}).get("inline_keyboard", []) if isinstance(markup, dict) else []
            ):
                for button in row:
                    data = button.get("callback_data")
                    if data and data not in self.known:
                        self.known.append(data)
        self._calls_seen = len(self.stand_in.calls)

    def bot_messages(self, chat_id: int) -> list[BotMessage]:
        """The bot's messages still in a chat, oldest first."""
        return self.stand_in.sent_to(chat_id)

    # -- actions -----------------------------------------------------------------------------
    async def play(self, action: a.Action) -> Reply | None:
        """Perform one action (an update, or time passing); what the bot did in answer."""
        if isinstance(action, a.Wait):
            return await self.harness.advance(timedelta(seconds=action.seconds))
        if isinstance(action, a.Press):
            await self._ensure_keyboard(action)
        payload = self.payload(action)
        if payload is None:
            return None
        update = Update.de_json({"update_id": next(self._ids), **payload}, self.harness.app.bot)
        return await self.harness.process(update)
        self._learn_callback_data()

    def payload(self, action: a.Action) -> dict[str, Any] | None:
        """The update's body (without ``update_id``) for an action; None when impossible."""
        who, where = getattr(action, "who", None), getattr(action, "where", a.Chat())
        if isinstance(action, a.Text):
            return {"message": self._text(action)}
        if isinstance(action, a.Command):
            head = f"/{action.name}{action.suffix}"
            body = (f"{head} {action.args}" if action.args else head)[:4096]
            entities = tj.entities(body, command=True, mention=False)
            return {"message": self.message(who, where, text=body, entities=entities)}
        if isinstance(action, a.Photo):
            content: dict[str, Any] = {"photo": tj.photo(action.file_id)}
            if action.caption:
                content["caption"] = action.caption
            return {"message": self.message(who, where, **content)}
        if isinstance(action, a.Location):
            location = {"latitude": action.latitude, "longitude": action.longitude}
            return {"message": self.message(who, where, location=location)}
        if isinstance(action, a.Contact):
            contact: dict[str, Any] = {"phone_number": action.phone, "first_name": "联系人"}
            if action.user_id is not None:
                own = tj.user(action.who)["id"]
                contact["user_id"] = own if action.user_id == -1 else action.user_id
            return {"message": self.message(who, where, contact=contact)}
        if isinstance(action, a.Media):
            return {"message": self.message(who, where, **tj.media(action.kind))}
        if isinstance(action, a.Edited):
            body = f"/forgetme {action.text}"[:4096] if action.command else action.text
            entities = tj.entities(body, command=action.command, mention=False)
            edited = self.message(who, where, text=body, entities=entities, edit_date=self._date())
            edited["message_id"] = action.message_id
            return {"edited_message": edited}
        if isinstance(action, a.Press):
            query = self._press(action)
            return {"callback_query": query} if query else None
        if isinstance(action, a.ChannelPost):
            return tj.channel_post(action, next(self._ids), self._date())
        if isinstance(action, a.MemberChange):
            return {"my_chat_member": tj.member_change(action, self._date())}
        if isinstance(action, a.InlineQuery):
            query = {"id": str(next(self._ids)), "from": tj.user(action.who), "offset": ""}
            return {"inline_query": {**query, "query": action.query[:256]}}
        raise TypeError(f"unknown action {action!r}")

    def _text(self, action: a.Text) -> dict[str, Any]:
        body = action.text
        if action.mention:
            body = f"@{tj.BOT_USERNAME} {body}"[:4096]
        content: dict[str, Any] = {"text": body}
        entities = tj.entities(body, command=False, mention=action.mention)
        if entities:
            content["entities"] = entities
        if action.reply_to_bot:
            chat = tj.chat(action.who, action.where)
            sent = self.bot_messages(chat["id"])
            content["reply_to_message"] = (
                sent[-1].raw
                if sent
                else {"message_id": 1, "date": 1, "chat": chat, "from": BOT_USER, "text": "…"}
            )
        return self.message(action.who, action.where, **content)

    async def _ensure_keyboard(self, action: a.Press) -> None:
        """Have the person ask for a keyboard first when the bot never wrote in that chat."""
        # A press needs a bot message that had an inline keyboard (one whose keyboard an
        # earlier tap removed still counts: double taps race like that). /lang gives one to
        # anyone in a private chat, /help@bot a (link) keyboard in a group.
        chat = tj.chat(action.who, action.where)
        if self.bot_messages(chat["id"]):
            return
        group = action.where.group is not None
        name, suffix = ("help", "@" + tj.BOT_USERNAME) if group else ("lang", "")
        await self.play(a.Command(action.who, action.where, name, suffix, ""))

    def _press(self, action: a.Press) -> dict[str, Any] | None:
        chat = tj.chat(action.who, action.where)
        sent = self.bot_messages(chat["id"])
        if not sent:
            return None  # the bot never wrote in that chat: there is nothing to press
        with_buttons = [m for m in sent if m.buttons]
        if action.target == "last":
            target = (with_buttons or sent)[-1]
        else:
            target = sent[action.pick % len(sent)]
        query: dict[str, Any] = {
            "id": str(next(self._ids)),
            "from": tj.user(action.who),
            "chat_instance": f"ci-{chat['id']}",
            "message": target.raw,
        }
        if action.target == "inaccessible":
            # Too old for Telegram to include: only chat and id, with date 0.
            query["message"] = {"chat": chat, "message_id": target.message_id, "date": 0}
        data = self._data(action, target)
        if data:
            query["data"] = data
        return query

    def _data(self, action: a.Press, target: BotMessage) -> str:
        buttons = [
            b["callback_data"] for row in target.buttons for b in row if "callback_data" in b
        ]
        source = action.data
        if source == "button" and not buttons:
            source = "known"
        if source == "known" and not self.known:
            source = "template"
        if source == "button":
            data = buttons[action.pick % len(buttons)]
        elif source == "known":
            data = self.known[action.pick % len(self.known)]
        elif source == "template":
            pieces = iter(action.pieces) if action.pieces else iter(())
            data = re.sub(r"\{\w+\}", lambda _: next(pieces, "1"), action.template)
        else:
            data = action.random_data
        return tj.mutate(data, action.mutation, action.mutation_arg)
