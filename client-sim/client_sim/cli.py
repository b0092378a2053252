"""`client-sim run SCENARIO --clients N …`: drive a feltsync (or the Node reference) with load.

Tokens come from a file, one access token per line (line 0 is the publisher or first host);
`bench/fanout.py` shows how to issue them. The exit code is 1 when a scenario's checks fail
(anything lost, duplicated or refused), so a run can gate a build.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress, TaskID

from client_sim import report
from client_sim.tokens import read_tokens
from client_sim.workers import CLIENTS_PER_PROCESS

SCENARIOS = ("connect-storm", "fanout", "idle", "tournaments", "reconnect-storm", "offline-flush")
NEED_TOKENS = ("tournaments", "reconnect-storm", "offline-flush")


class Bars:
    """One progress bar per label: `bars(label, done, total)` from any scenario."""

    def __init__(self, progress: Progress):
        self._progress = progress
        self._tasks: dict[str, TaskID] = {}

    def __call__(self, label: str, done: int, total: int) -> None:
        if label not in self._tasks:
            self._tasks[label] = self._progress.add_task(label, total=total)
        self._progress.update(self._tasks[label], completed=done, total=total)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="client-sim", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a scenario")
    run.add_argument("scenario", choices=SCENARIOS)
    run.add_argument("--url", default="http://127.0.0.1:8080",
                     help="the server; fanout takes several, comma-separated (instances sharing "
                          "Redis: subscribers spread over them, the publisher on the first)")
    run.add_argument("--tokens", type=Path, help="access tokens, one per line")
    run.add_argument("--clients", type=int, default=1000)
    run.add_argument("--processes", type=int, default=4)
    run.add_argument("--per-process", type=int, default=CLIENTS_PER_PROCESS,
                     help="tournaments, reconnect-storm, offline-flush: clients per process "
                          "(fewer clients stay in fewer processes)")
    run.add_argument("--rate", type=float, default=5,
                     help="messages/s (fanout, reconnect-storm); "
                          "snapshots/s per host (tournaments)")
    run.add_argument("--seconds", type=float, default=4)
    run.add_argument("--burst", type=int, default=100)
    run.add_argument("--pad", type=int, default=200)
    run.add_argument("--read-batch-ms", type=float, default=None,
                     help="fanout: subscribers pause this long before each wait for reads "
                          "(default 1; 0 reads at once; see client_sim/loop.py)")
    run.add_argument("--node-reference", action="store_true",
                     help="speak the Node reference's protocol (pub/state, no join, no auth)")
    run.add_argument("--tournaments", type=int, default=10, help="tournaments: how many at once")
    run.add_argument("--snapshots", type=int, default=20, help="tournaments: versions per host")
    run.add_argument("--players", type=int, default=18, help="tournaments: players in each")
    run.add_argument("--drops", type=int, default=1, help="reconnect-storm: how many storms")
    run.add_argument("--drop-fraction", type=float, default=1.0,
                     help="reconnect-storm: share of the members dropped in each storm")
    run.add_argument("--outage", type=float, default=0.5,
                     help="reconnect-storm: seconds the dropped members stay away")
    run.add_argument("--records", type=int, default=50, help="offline-flush: records per user")
    run.add_argument("--batch-size", type=int, default=100,
                     help="offline-flush: operations per POST /batch")
    run.add_argument("--json", type=Path, help="write the results here")
    run.add_argument("--html", type=Path, help="write an HTML report with plots here")
    return parser


def _check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.scenario in NEED_TOKENS and args.tokens is None:
        parser.error(f"{args.scenario} needs --tokens (one access token per line)")
    if min(args.clients, args.processes, args.per_process, args.rate, args.seconds) <= 0:
        parser.error("--clients, --processes, --per-process, --rate, --seconds must be positive")
    if not 0 < args.drop_fraction <= 1:
        parser.error("--drop-fraction must be in (0, 1]")
    if args.outage < 0 or (args.read_batch_ms or 0) < 0:
        parser.error("--outage and --read-batch-ms must not be negative")
    if args.players < 2 or args.tournaments < 1 or args.snapshots < 1 or args.drops < 1:
        parser.error("--players must be at least 2; --tournaments, --snapshots, --drops >= 1")
    if args.records < 1 or not 1 <= args.batch_size <= 10_000:
        parser.error("--records must be positive and --batch-size between 1 and 10000")


def _run(args: argparse.Namespace, tokens: list[str], console: Console) -> dict[str, Any]:
    if args.scenario == "connect-storm":
        from client_sim.storm import run_connect_storm

        with console.status(f"connecting {args.clients} clients ..."):
            return run_connect_storm(args.url, tokens, args.clients, processes=args.processes)
    if args.scenario == "idle":
        from client_sim.idle import hold_idle

        with console.status(f"holding {args.clients} idle connections ..."):
            return {"scenario": "idle", **hold_idle(args.url, args.tokens, args.clients,
                                                    processes=args.processes)}
    with Progress(console=console) as progress:
        bars = Bars(progress)
        if args.scenario == "tournaments":
            from client_sim.tournaments import run_tournaments

            return run_tournaments(args.url, tokens, args.clients, tournaments=args.tournaments,
                                   snapshots=args.snapshots, rate=args.rate, players=args.players,
                                   processes=args.processes, per_process=args.per_process,
                                   progress=bars)
        if args.scenario == "reconnect-storm":
            from client_sim.reconnect import run_reconnect_storm

            return run_reconnect_storm(args.url, tokens, args.clients, rate=args.rate,
                                       seconds=args.seconds, drops=args.drops,
                                       drop_fraction=args.drop_fraction, outage=args.outage,
                                       processes=args.processes,
                                       per_process=args.per_process, progress=bars)
        if args.scenario == "offline-flush":
            from client_sim.offline import run_offline_flush

            return run_offline_flush(args.url, tokens, args.clients, records=args.records,
                                     batch_size=args.batch_size, processes=args.processes,
                                     per_process=args.per_process, progress=bars)
        from client_sim.fanout import NODE_REFERENCE, READ_BATCH_MS, Protocol, run_fanout

        result = run_fanout(
            args.url.split(","), tokens, args.clients, rate=max(1, round(args.rate)),
            seconds=max(1, round(args.seconds)), burst=args.burst, pad=args.pad,
            processes=args.processes,
            read_batch_ms=READ_BATCH_MS if args.read_batch_ms is None else args.read_batch_ms,
            proto=NODE_REFERENCE if args.node_reference else Protocol(),
            progress=lambda done, total: bars("subscribers connected", done, total))
        bars("subscribers connected", args.clients, args.clients)
        return result


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    _check(parser, args)
    console = Console()
    tokens = read_tokens(args.tokens) if args.tokens else ["none"] * (args.clients + 1)
    if len(tokens) < args.clients:
        tokens = [tokens[i % len(tokens)] for i in range(args.clients + 1)]

    result = _run(args, tokens, console)
    report.print_table(result, console)
    if args.json:
        report.write_json(result, args.json)
    if args.html:
        report.write_html(result, args.html)
    if result.get("ok") is False:
        console.print(f"[red]{args.scenario}: checks failed[/] (see the table above)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
