"""The aiohttp front of the fake Bot API: routing, request decoding, faults, envelopes, files."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from aiohttp import web

# Imported for their @api_method registrations.
from tests.e2e import fake_botapi_methods, fake_botapi_updates  # noqa: F401
from tests.e2e.fake_botapi_faults import Fault
from tests.e2e.fake_botapi_protocol import (
    CANONICAL,
    METHODS,
    ApiError,
    Call,
    Ctx,
    UploadedFile,
    bad_request,
    coerce_chat_id,
    decode_value,
)
from tests.e2e.fake_botapi_send import SEND_METHODS, messages_in

log = logging.getLogger(__name__)
# Telegram's upload limit is 50 MB; aiohttp's default body limit (1 MB) would reject photos.
MAX_BODY = 50 * 1024 * 1024
# A blocked chat refuses everything that would show up in it.
BLOCKABLE_PREFIXES = ("send", "edit", "copy", "forward", "pin")


async def read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    """Query string plus JSON, URL-encoded or multipart body, as one typed dict and the files."""
    params = {k: decode_value(k, v) for k, v in request.query.items()}
    files: dict[str, UploadedFile] = {}
    if not request.can_read_body:
        return params, files
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise bad_request("can't parse JSON object") from None
        if not isinstance(body, dict):
            raise bad_request("JSON object expected")
        for key, value in body.items():
            params[key] = coerce_chat_id(value) if key in ("chat_id", "from_chat_id") else value
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                files[key] = UploadedFile(value.filename, value.content_type, value.file.read())
            else:
                params[key] = decode_value(key, value)
    return params, files


def envelope(status: int, body: dict[str, Any]) -> web.Response:
    """A JSON answer with Telegram's envelope; non-ASCII kept readable like Telegram does."""
    return web.Response(
        status=status,
        body=json.dumps(body, ensure_ascii=False).encode(),
        content_type="application/json",
    )


def _drop(request: web.Request, call: Call) -> web.Response:
    """Close the connection without an answer (aiohttp then sends nothing)."""
    call.dropped = True
    if request.transport is not None:
        request.transport.abort()
    return web.Response()


class HttpFront:
    """Builds the aiohttp application and runs each Bot API call through the fault pipeline."""

    def __init__(self, api: Any) -> None:
        self.api = api

    def make_app(self) -> web.Application:
        """Routes: /bot<token>/<method> (GET or POST) and /file/bot<token>/<path>."""
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_route("*", "/bot{token}/{method}", self.handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self.handle_file)
        app.router.add_route("*", "/{tail:.*}", self.handle_unknown)
        return app

    async def handle_unknown(self, request: web.Request) -> web.Response:
        """Any other path: Telegram's JSON 404 rather than aiohttp's plain-text page."""
        return envelope(404, ApiError(404, "Not Found").envelope())

    async def handle_method(self, request: web.Request) -> web.Response:
        """One Bot API call: record, apply faults, dispatch, wrap in the envelope."""
        api = self.api
        name = request.match_info["method"]
        method = CANONICAL.get(name.lower(), name)
        parse_error: ApiError | None = None
        try:
            params, files = await read_params(request)
        except ApiError as err:
            params, files, parse_error = {}, {}, err
        call = Call(method=method, params=params, files=files)
        api.calls.append(call)
        fault = api.faults.take(method, params.get("chat_id"))
        if fault is not None and fault.delay:
            await asyncio.sleep(fault.delay)
        if fault is not None and fault.drop == "before":
            return _drop(request, call)
        try:
            if parse_error is not None:
                raise parse_error
            ctx = Ctx(api, request.match_info["token"], method, params, files)
            result = await self._answer(ctx, fault)
            call.status, call.result = 200, result
            response = envelope(200, {"ok": True, "result": result})
        except ApiError as err:
            call.status, call.error = err.code, err.description
            api.stats.record_error(err.code)
            response = envelope(err.code, err.envelope())
        api.world.activity.fire()
        if fault is not None and fault.drop == "after":
            return _drop(request, call)
        return response

    async def _answer(self, ctx: Ctx, fault: Fault | None) -> Any:
        """Checks in Telegram's order, then the method itself."""
        api = self.api
        if ":" not in ctx.token:
            raise ApiError(404, "Not Found")
        if api.token is not None and ctx.token != api.token:
            raise ApiError(401, "Unauthorized")
        handler = METHODS.get(ctx.method)
        if handler is None:
            raise ApiError(404, "Not Found: method not found")
        injected = fault.to_error() if fault is not None else None
        if injected is not None:
            raise injected
        chat_id = ctx.params.get("chat_id")
        if chat_id in api.faults.blocked and ctx.method.startswith(BLOCKABLE_PREFIXES):
            raise ApiError(403, api.faults.blocked[chat_id])
        if api.limiter is not None and ctx.method in SEND_METHODS:
            chat = api.world.chats.get(chat_id)
            if chat is not None:
                is_group = chat["type"] != "private"
                retry = api.limiter.check(chat["id"], is_group, messages_in(ctx.method, ctx.params))
                if retry is not None:
                    raise ApiError(429, retry_after=retry)
        return await handler(ctx)

    async def handle_file(self, request: web.Request) -> web.Response:
        """Downloads for getFile paths."""
        api = self.api
        token = request.match_info["token"]
        if api.token is not None and token != api.token:
            return envelope(401, ApiError(401).envelope())
        stored = api.world.file_by_path(request.match_info["path"])
        if stored is None:
            return envelope(404, ApiError(404, "Not Found: file not found").envelope())
        return web.Response(body=stored.content, content_type="application/octet-stream")
