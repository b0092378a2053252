"""`client-sim run SCENARIO --clients N …`: drive a feltsync (or the Node reference) with load.

Scenarios available now: connect-storm, fanout, idle. Tokens come from a file, one access
token per line (line 0 is the publisher); `bench/fanout.py` shows how to issue them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.progress import Progress

from client_sim import report

SCENARIOS = ("connect-storm", "fanout", "idle")
NOT_YET = {
    "tournaments": "many tournaments with hosts pushing snapshots",
    "reconnect-storm": "reconnect storm with resume, verifying no loss or duplication",
    "offline-flush": "offline-queue flush over REST /batch",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="client-sim", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a scenario")
    run.add_argument("scenario", choices=[*SCENARIOS, *NOT_YET])
    run.add_argument("--url", default="http://127.0.0.1:8080")
    run.add_argument("--tokens", type=Path, help="access tokens, one per line")
    run.add_argument("--clients", type=int, default=1000)
    run.add_argument("--processes", type=int, default=4)
    run.add_argument("--rate", type=int, default=5)
    run.add_argument("--seconds", type=int, default=4)
    run.add_argument("--burst", type=int, default=100)
    run.add_argument("--pad", type=int, default=200)
    run.add_argument("--node-reference", action="store_true",
                     help="speak the Node reference's protocol (pub/state, no join, no auth)")
    run.add_argument("--json", type=Path, help="write the results here")
    run.add_argument("--html", type=Path, help="write an HTML report with plots here")
    args = parser.parse_args(argv)
    console = Console()

    if args.scenario in NOT_YET:
        console.print(f"[yellow]{args.scenario}[/]: {NOT_YET[args.scenario]} is not implemented yet")
        return 2
    tokens = ([t for t in args.tokens.read_text().split("\n") if t] if args.tokens
              else ["none"] * (args.clients + 1))
    if len(tokens) < args.clients:
        tokens = [tokens[i % len(tokens)] for i in range(args.clients + 1)]

    if args.scenario == "connect-storm":
        from client_sim.storm import run_connect_storm

        with console.status(f"connecting {args.clients} clients ..."):
            result = run_connect_storm(args.url, tokens, args.clients, processes=args.processes)
    elif args.scenario == "idle":
        from client_sim.idle import hold_idle

        token_file = args.tokens
        with console.status(f"holding {args.clients} idle connections ..."):
            result = {"scenario": "idle", **hold_idle(args.url, token_file, args.clients,
                                                      processes=args.processes)}
    else:
        from client_sim.fanout import NODE_REFERENCE, Protocol, run_fanout

        with Progress(console=console) as progress:
            task = progress.add_task("subscribers connected", total=args.clients)
            result = run_fanout(
                args.url, tokens, args.clients, rate=args.rate, seconds=args.seconds,
                burst=args.burst, pad=args.pad, processes=args.processes,
                proto=NODE_REFERENCE if args.node_reference else Protocol(),
                progress=lambda done, total: progress.update(task, completed=done))
            progress.update(task, completed=args.clients)

    report.print_table(result, console)
    if args.json:
        report.write_json(result, args.json)
    if args.html:
        report.write_html(result, args.html)
    return 0


if __name__ == "__main__":
    sys.exit(main())
