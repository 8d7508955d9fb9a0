"""Operational metrics (Prometheus) and a liveness endpoint.

``--metrics-port`` serves ``/metrics`` (Prometheus text format) and ``/health`` (JSON: alive,
seconds since the last update, outbox depth) from a small thread, so it keeps answering
even when the event loop is busy.  The registry is built in ``main``, not at import.
"""

from __future__ import annotations

import json
import logging
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from telegram import Update

from handlers.context import WulinContext

log = logging.getLogger(__name__)
START = "metrics_started_at"


class Metrics:
    """The bot's metrics on their own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.updates = Counter("wulin_updates_total", "Updates received", ["kind"], registry=r)
        self.latency = Histogram(
            "wulin_update_seconds",
            "Time to handle an update",
            registry=r,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.outbox_pending = Gauge(
            "wulin_outbox_pending", "Messages waiting in the outbox", registry=r
        )
        self.sent = Counter(
            "wulin_messages_sent_total", "Outbox messages delivered", ["kind"], registry=r
        )
        self.failed = Counter(
            "wulin_messages_failed_total", "Outbox messages given up", ["kind"], registry=r
        )
        self.unreachable = Counter(
            "wulin_unreachable_total", "Sends answered 403 (blocked)", ["kind"], registry=r
        )
        self.reminders = Counter(
            "wulin_reminders_queued_total", "Reminders queued", ["kind"], registry=r
        )
        self.unreachable_people = Gauge(
            "wulin_unreachable_people", "People marked unreachable", registry=r
        )
        self.last_update = 0.0

    def outcome(self, status: str, kind: str) -> None:
        """Count one outbox outcome (called by the sender)."""
        counter = {"sent": self.sent, "failed": self.failed, "unreachable": self.unreachable}.get(
            status
        )
        if counter is not None:
            counter.labels(kind=kind.split("_")[0]).inc()

    def health(self) -> dict[str, Any]:
        """The liveness document."""
        since = time.monotonic() - self.last_update if self.last_update else None
        return {
            "status": "ok",
            "seconds_since_update": round(since, 1) if since is not None else None,
            "outbox_pending": self.outbox_pending._value.get(),
        }


def _kind(update: Update) -> str:
    if update.callback_query is not None:
        return "callback"
    if update.edited_message is not None:
        return "edited"
    message = update.message
    if message is not None and message.text and message.text.startswith("/"):
        return "command"
    return "message" if message is not None else "other"


async def count_start(update: object, context: WulinContext) -> None:
    """Group -3: count the update and remember when it arrived."""
    metrics: Metrics | None = context.runtime.extras.get("metrics")
    if metrics is None or not isinstance(update, Update):
        return
    metrics.updates.labels(kind=_kind(update)).inc()
    metrics.last_update = time.monotonic()
    setattr(context, START, time.perf_counter())


async def count_end(update: object, context: WulinContext) -> None:
    """Last group: observe how long the update took."""
    metrics: Metrics | None = context.runtime.extras.get("metrics")
    started = getattr(context, START, None)
    if metrics is not None and started is not None:
        metrics.latency.observe(time.perf_counter() - started)


def serve(metrics: Metrics, port: int, host: str = "0.0.0.0") -> ThreadingHTTPServer:
    """Start the /metrics and /health server in a daemon thread."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.startswith("/metrics"):
                body, ctype = generate_latest(metrics.registry), CONTENT_TYPE_LATEST
            elif self.path.startswith("/health"):
                body, ctype = json.dumps(metrics.health()).encode(), "application/json"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return  # scrapes every few seconds would flood the log

    server = ThreadingHTTPServer((host, port), Handler)
    Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    log.info("metrics on http://%s:%s/metrics and /health", host, port)
    return server
