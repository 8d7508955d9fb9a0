"""Printing ``load_bench.py``'s figures: tables per backend, the targets, the profiles."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

from load_http import HttpResult
from load_measure import Run

#: Targets: FAQ and /report throughput as a share of the echo baseline; p99 at the rate.
FAQ_SHARE, REPORT_SHARE, P99_MS = 0.50, 0.25, 100.0


@dataclass
class BackendFigures:
    """Everything measured on one backend."""

    label: str
    parse_us: float = 0.0
    runs: dict[str, Run] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    http: HttpResult | None = None
    profiles: list[str] = field(default_factory=list)
    load: list[float] = field(default_factory=list)  # 1-minute load average, before / after

    @property
    def base_rate(self) -> float:
        """The echo baseline's throughput: the mean of its runs before and after the bot."""
        return self.rate_of("echo", "echo after")

    def rate_of(self, *keys: str) -> float:
        """Mean throughput of the runs named (those measured)."""
        rates = [self.runs[k].rate for k in keys if k in self.runs]
        return sum(rates) / len(rates) if rates else float("nan")


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(all_figures: list[BackendFigures], args: argparse.Namespace) -> None:
    """Print the tables, the targets and any profile."""
    for f in all_figures:
        base = f.base_rate
        print(f"\n=== {f.label} ===")
        print(
            f"machine load average (1 min) before / after: {' / '.join(f'{x:.1f}' for x in f.load)}"
        )
        print(f"Update.de_json: {f.parse_us:.0f} µs per update, outside every timed loop")
        print("sequential (one update at a time):")
        print(f"  {'path':<22}{'updates/s':>10}{'× echo':>8}{'p50 ms':>9}{'p99 ms':>9}"
              f"{'× echo incl. parsing':>22}")  # fmt: skip
        parse_s = f.parse_us / 1e6
        for key, label in (("echo", "echo baseline"), ("echo after", "echo, after the bot"),
                           ("faq", "FAQ answers"), ("report", "/report TEXT")):  # fmt: skip
            run = f.runs[key]
            with_parse = (1 / (1 / run.rate + parse_s)) / (1 / (1 / base + parse_s))
            print(f"  {label:<22}{run.rate:>10.0f}{run.rate / base:>8.2f}{run.pct(0.5):>9.2f}"
                  f"{run.pct(0.99):>9.2f}{with_parse:>22.2f}")  # fmt: skip
        burst_base = f.rate_of("echo burst", "echo after burst")
        print("burst (all offered at once, through the update processor bot.py run uses):")
        print(f"  {'path':<22}{'updates/s':>10}{'× echo':>8}")
        for key, label in (("echo burst", "echo baseline"), ("echo after burst",
                           "echo, after the bot"), ("faq burst", "FAQ answers"),
                           ("report burst", "/report TEXT")):  # fmt: skip
            if key in f.runs:
                run = f.runs[key]
                print(f"  {label:<22}{run.rate:>10.0f}{run.rate / burst_base:>8.2f}")
        print(f"open loop at {args.rate:g} updates/s for {args.open_seconds:g} s, processed as "
              "bot.py run does (latency from the scheduled arrival):")  # fmt: skip
        print(f"  {'path':<22}{'done/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
              f"{'max queue':>11}  GC pauses ≥ 10 ms (count, longest)")  # fmt: skip
        for key, label in (("echo open", "echo baseline"), ("faq open", "FAQ answers"),
                           ("report open", "/report TEXT"),
                           ("filing open", "/report, all filed")):  # fmt: skip
            if key not in f.runs:
                continue
            run = f.runs[key]
            pauses = f"{len(run.gc_pauses)}, {max(run.gc_pauses, default=0):.0f} ms"
            print(f"  {label:<22}{run.rate:>10.0f}{run.pct(0.5):>9.1f}{run.pct(0.99):>9.1f}"
                  f"{run.pct(1.0):>9.1f}{run.max_in_flight:>11}  {pauses}")  # fmt: skip
        if "faq http" in f.runs:
            http_base = f.rate_of("echo http", "echo http after")
            print("sequential, every Bot API call over loopback HTTP (PTB's HTTPXRequest; the "
                  "fake Bot API in its own process):")  # fmt: skip
            print(f"  {'path':<22}{'updates/s':>10}{'× echo':>8}{'p50 ms':>9}{'p99 ms':>9}")
            for key, label in (("echo http", "echo baseline"), ("echo http after",
                               "echo, after the bot"), ("faq http", "FAQ answers"),
                               ("report http", "/report TEXT")):  # fmt: skip
                run = f.runs[key]
                print(f"  {label:<22}{run.rate:>10.0f}{run.rate / http_base:>8.2f}"
                      f"{run.pct(0.5):>9.2f}{run.pct(0.99):>9.2f}")  # fmt: skip
        for note in f.notes:
            print(f"  note: {note}")
        if f.http is not None:
            h = f.http
            print(f"HTTP: bot.py run + fake Bot API, {args.http_users} residents, "
                  f"{args.http_seconds:g} s, think {args.think} s:")  # fmt: skip
            print(f"  sent {h.sent} ({h.sent / max(args.http_seconds, 1e-9):.1f}/s offered), "
                  f"replies {h.replies.count}, reply p50 {h.replies.pct(0.5):.0f} ms, "
                  f"p99 {h.replies.pct(0.99):.0f} ms")  # fmt: skip
            print(f"  errors {h.errors}: missing {h.missing}, apologies {h.apologies}, "
                  f"server errors {h.server_errors or 0}, log errors {len(h.log_errors)}, "
                  f"exited early {h.exited_early}")  # fmt: skip
            if h.shutdown_errors:
                print(f"  (not counted: {h.shutdown_errors} answered while the bot shut down)")
            for line in h.error_samples:
                print(f"    server answered: {line}")
            for line in h.log_errors[:5]:
                print(f"    log: {line[:200]}")
    print("\n=== targets (ratios to the mean of the two echo runs) ===")
    for f in all_figures:
        base = f.base_rate
        checks = [
            (f"FAQ ≥ {FAQ_SHARE:.0%} of echo throughput", f.runs["faq"].rate / base >= FAQ_SHARE,
             f"{f.runs['faq'].rate / base:.0%}"),
            (f"/report ≥ {REPORT_SHARE:.0%} of echo throughput",
             f.runs["report"].rate / base >= REPORT_SHARE, f"{f.runs['report'].rate / base:.0%}"),
            (f"FAQ p99 ≤ {P99_MS:g} ms at {args.rate:g}/s", f.runs["faq open"].pct(0.99) <= P99_MS,
             f"{f.runs['faq open'].pct(0.99):.0f} ms"),
            (f"/report p99 ≤ {P99_MS:g} ms at {args.rate:g}/s",
             f.runs["report open"].pct(0.99) <= P99_MS,
             f"{f.runs['report open'].pct(0.99):.0f} ms"),
        ]  # fmt: skip
        if "filing open" in f.runs:
            p99 = f.runs["filing open"].pct(0.99)
            checks.append((f"/report p99 ≤ {P99_MS:g} ms, all filed", p99 <= P99_MS,
                           f"{p99:.0f} ms"))  # fmt: skip
        if "faq http" in f.runs:
            http_base = f.rate_of("echo http", "echo http after")
            faq, rep = f.runs["faq http"].rate / http_base, f.runs["report http"].rate / http_base
            checks += [
                (f"FAQ ≥ {FAQ_SHARE:.0%} of echo, over HTTP", faq >= FAQ_SHARE, f"{faq:.0%}"),
                (f"/report ≥ {REPORT_SHARE:.0%} of echo, over HTTP", rep >= REPORT_SHARE,
                 f"{rep:.0%}"),
            ]  # fmt: skip
        if f.http is not None:
            checks.append(("HTTP run: zero errors", f.http.errors == 0, f"{f.http.errors} errors"))
        for name, ok, value in checks:
            print(f"  {_verdict(ok)}  {f.label:<11} {name:<40} {value}")
    for f in all_figures:
        for text in f.profiles:
            print(f"\n=== {f.label}: {text}")
