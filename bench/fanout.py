"""Room fan-out, side by side: Node's socket.io 4.8 reference and feltsync, in one run.

Starts both servers on 127.0.0.1, drives each with the same load generator (the shared
`loadgen.js`, official socket.io-client), and prints the ratios feltsync / Node:
deliveries/s at N clients, p50/p99 latency at the offered rate, resident memory per
connection, and (with --idle N) how many idle authenticated connections one feltsync holds;
with --instances, two instances behind Redis against one (bench/instances.py).

    python bench/fanout.py --clients 2000 --rate 5 --burst 100 --idle 19000

Needs Node 20+ and npm (the reference's packages are installed once under var/bench/node).
feltsync runs with BENCH_ROOM=true (the `bench:join` / `bench:pub` events, which publish
through the event bus like any room event) on a throwaway SQLite database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from harness import ROOT, feltsync_process, free_port, process, wait_http

sys.path[:0] = [str(ROOT), str(ROOT / "client-sim")]

DEFAULT_REF_DIR = ROOT.parent / "shared" / "bench"
NODE_DIR = ROOT / "var" / "bench" / "node"
REF_FILES = ("ref_server.js", "loadgen.js", "package.json")


def prepare_node(ref_dir: Path) -> Path:
    NODE_DIR.mkdir(parents=True, exist_ok=True)
    for name in REF_FILES:
        shutil.copyfile(ref_dir / name, NODE_DIR / name)
    if not (NODE_DIR / "node_modules" / "socket.io").exists():
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent"], cwd=NODE_DIR,
                       check=True)
    return NODE_DIR


def feltsync_env(work: Path, port: int, secret: str, extra: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "ENV": "development", "HOST": "127.0.0.1", "PORT": str(port), "VAR_DIR": str(work / "var"),
        "DATABASE_URL": f"sqlite://{work / 'bench.sqlite3'}", "JWT_SECRET": secret,
        "ACCESS_TOKEN_TTL": "3600", "LOG_LEVEL": "WARNING", "BENCH_ROOM": "true",
        # The publisher sends bursts: the per-socket limits are for clients, not this bench.
        "SOCKET_EVENT_RATE": "1000000", "SOCKET_EVENT_BURST": "1000000",
        "SOCKET_MAX_OUTGOING": "100000",
        "PING_INTERVAL": "60", "PING_TIMEOUT": "60",
    })
    env.pop("REDIS_URL", None)
    env.update(extra)
    return env


async def _provision(db_url: str, secret: str, count: int, token_file: Path) -> None:
    """Throwaway users with one device each, and an access token per user from TokenService."""
    from models.accounts import Device, User
    from server.services.tokens import TokenService
    from server.storage.orm import shared_orm

    await shared_orm.acquire(db_url, migrate=True)
    try:
        tag = secrets.token_hex(3)
        await User.bulk_create([User(login=f"bench_{tag}_{i}", password_hash="!unusable",
                                     nickname=f"b{i}") for i in range(count)], batch_size=1000)
        users = await User.filter(login__startswith=f"bench_{tag}_").order_by("id").values_list("id", flat=True)
        await Device.bulk_create([Device(user_id=uid, device_id="bench", name="bench")
                                  for uid in users], batch_size=1000)
    finally:
        await shared_orm.release()
    tokens = TokenService(secret, "feltsync", 3600)
    token_file.write_text("\n".join(tokens.issue_access(uid, "bench")[0] for uid in users) + "\n")


def provision(work: Path, secret: str, count: int) -> Path:
    token_file = work / "tokens.txt"
    asyncio.run(_provision(f"sqlite://{work / 'bench.sqlite3'}", secret, count, token_file))
    return token_file


def loadgen(node_dir: Path, url: str, args: argparse.Namespace, server_pid: int,
            feltsync_tokens: Path | None) -> dict:
    cmd = ["node", str(node_dir / "loadgen.js"), "--url", url, "--clients", str(args.clients),
           "--burst", str(args.burst), "--rate", str(args.rate), "--seconds", str(args.seconds),
           "--pad", str(args.pad), "--server-pid", str(server_pid)]
    if feltsync_tokens is not None:
        cmd += ["--tokens", str(feltsync_tokens), "--join", "bench:join", "--join-payload", "{}",
                "--pub", "bench:pub", "--pub-payload", "{}", "--recv", "bench:state",
                "--bench-path", "data"]
    out = subprocess.run(cmd, cwd=node_dir, capture_output=True, text=True, timeout=600, check=False)
    lines = out.stdout.strip().splitlines()
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"loadgen failed: {out.stderr[-2000:]}")
    return json.loads(lines[-1])


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def idle_hold(url: str, token_file: Path, count: int, server_pid: int, processes: int) -> dict:
    """Open `count` idle authenticated connections with client-sim's light client."""
    from client_sim.idle import hold_idle

    before = rss_kb(server_pid)
    result = hold_idle(url, token_file, count, processes=processes,
                       on_held=lambda: rss_kb(server_pid))
    result["server_rss_per_conn_kb"] = (
        round((result.pop("probe") - before) / max(result["connected"], 1), 1))
    return result


def ratio(ours: float | None, theirs: float | None) -> str:
    if not ours or not theirs:
        return "n/a"
    return f"{ours / theirs:.2f}x"


def print_table(node: dict, felt: dict, idle: dict | None, label: str) -> None:
    rows = [
        ("deliveries/s (burst)", node["deliveries_per_s"], felt["deliveries_per_s"],
         ratio(felt["deliveries_per_s"], node["deliveries_per_s"]), "higher is better"),
        ("p50 ms at offered rate", node["p50_ms"], felt["p50_ms"],
         ratio(felt["p50_ms"], node["p50_ms"]), "lower is better"),
        ("p99 ms at offered rate", node["p99_ms"], felt["p99_ms"],
         ratio(felt["p99_ms"], node["p99_ms"]), "lower is better"),
        ("RSS KiB per connection", node["server_rss_per_conn_kb"], felt["server_rss_per_conn_kb"],
         ratio(felt["server_rss_per_conn_kb"], node["server_rss_per_conn_kb"]), "lower is better"),
        ("lost in latency phase", node["lost_in_latency_phase"], felt["lost_in_latency_phase"],
         "", ""),
    ]
    print(f"\n{label}")
    print(f"{'metric':<26}{'node':>12}{'feltsync':>12}{'ratio':>10}  note")
    for name, n, f, r, note in rows:
        print(f"{name:<26}{n!s:>12}{f!s:>12}{r:>10}  {note}")
    if idle is not None:
        print(f"{'idle connections held':<26}{'':>12}{idle['connected']:>12}{'':>10}"
              f"  of {idle['requested']} requested (file limit {idle['file_limit']})")
        print(f"{'RSS KiB per idle conn':<26}{'':>12}{idle['server_rss_per_conn_kb']:>12}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--burst", type=int, default=100)
    parser.add_argument("--rate", type=int, default=5, help="messages/s in the latency phase")
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--pad", type=int, default=200)
    parser.add_argument("--idle", type=int, default=0, help="idle connections to hold (0: skip)")
    parser.add_argument("--idle-processes", type=int, default=4)
    parser.add_argument("--ref-dir", type=Path,
                        default=Path(os.environ.get("FANOUT_REF_DIR", DEFAULT_REF_DIR)))
    parser.add_argument("--stock", action="store_true",
                        help="also run feltsync with python-socketio's stock manager")
    parser.add_argument("--asyncio", action="store_true",
                        help="also run feltsync on asyncio's own loop instead of uvloop")
    parser.add_argument("--client-sim", action="store_true",
                        help="also drive the Node reference with client-sim, to show it measures "
                             "at least what loadgen.js does (so it is not the bottleneck)")
    parser.add_argument("--instances", action="store_true",
                        help="also compare two feltsync instances behind Redis with one "
                             "(client-sim, PostgreSQL + Redis; see bench/instances.py)")
    parser.add_argument("--json", type=Path, help="write all results here")
    parser.add_argument("--env", action="append", default=[],
                        help="extra feltsync environment, NAME=VALUE (repeatable)")
    args = parser.parse_args(argv)

    from client_sim.idle import raise_file_limit

    file_limit = raise_file_limit()
    node_dir = prepare_node(args.ref_dir)
    extra = dict(item.split("=", 1) for item in args.env)
    results: dict = {"args": {k: str(v) for k, v in vars(args).items()}, "file_limit": file_limit}
    with tempfile.TemporaryDirectory(prefix="feltsync-bench-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        secret = secrets.token_urlsafe(48)
        users = max(args.clients + 1, args.idle)
        print(f"provisioning {users} users ...", flush=True)
        token_file = provision(work, secret, users)

        node_port = free_port()
        node = stack.enter_context(process(["node", "ref_server.js"], work / "node.log", cwd=node_dir,
                                           env={**os.environ, "PORT": str(node_port)}))
        time.sleep(0.5)
        print(f"node reference: {args.clients} clients ...", flush=True)
        results["node"] = loadgen(node_dir, f"http://127.0.0.1:{node_port}", args, node.pid, None)
        print(json.dumps(results["node"]), flush=True)
        if args.client_sim:
            from client_sim.fanout import NODE_REFERENCE, run_fanout

            print("node reference, driven by client-sim ...", flush=True)
            sim = run_fanout(f"http://127.0.0.1:{node_port}", ["none"] * (args.clients + 1),
                             args.clients, rate=args.rate, seconds=args.seconds, burst=args.burst,
                             pad=args.pad, proto=NODE_REFERENCE)
            results["node_client_sim"] = {k: v for k, v in sim.items()
                                          if k not in ("latencies_ms", "timeline")}
            print(json.dumps(results["node_client_sim"]), flush=True)
        node.send_signal(signal.SIGINT)

        variants = [("feltsync", {})]
        if args.stock:
            variants.append(("feltsync_stock", {"BROADCAST_FAST_PATH": "false"}))
        if args.asyncio:
            variants.append(("feltsync_asyncio", {"UVLOOP": "false"}))
        for name, overrides in variants:
            port = free_port()
            env = feltsync_env(work, port, secret, {**extra, **overrides})
            with feltsync_process(env, work / f"{name}.log") as felt:
                wait_http(f"http://127.0.0.1:{port}/healthz")
                print(f"{name}: {args.clients} clients ...", flush=True)
                results[name] = loadgen(node_dir, f"http://127.0.0.1:{port}", args, felt.pid,
                                        token_file)
                print(json.dumps(results[name]), flush=True)
                if args.idle and name == "feltsync":
                    print(f"{name}: holding {args.idle} idle connections ...", flush=True)
                    idle = idle_hold(f"http://127.0.0.1:{port}", token_file, args.idle, felt.pid,
                                     args.idle_processes)
                    idle["file_limit"] = file_limit
                    results["idle"] = idle
                    print(json.dumps(idle), flush=True)
        if args.instances:
            from instances import run_instances

            results["instances"] = run_instances(work, secret, args.clients, args.rate,
                                                 args.seconds, args.burst, args.pad, extra)
            print(json.dumps(results["instances"]), flush=True)

    print_table(results["node"], results["feltsync"], results.get("idle"),
                f"feltsync / node, {args.clients} clients, one room, pad {args.pad} B, "
                f"{args.rate} msg/s x {args.clients + 1} receivers offered in the latency phase")
    if "feltsync_stock" in results:
        print_table(results["node"], results["feltsync_stock"], None,
                    "stock python-socketio manager / node")
    if "feltsync_asyncio" in results:
        print_table(results["node"], results["feltsync_asyncio"], None,
                    "fast path on asyncio's loop (no uvloop) / node")
    if "instances" in results:
        from instances import print_instances

        print_instances(results["instances"])
    if "node_client_sim" in results:
        sim, gen = results["node_client_sim"], results["node"]
        print(f"\nnode reference measured by client-sim: {sim['deliveries_per_s']} deliveries/s, "
              f"p99 {sim['p99_ms']} ms (loadgen.js: {gen['deliveries_per_s']}/s, p99 {gen['p99_ms']} ms)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
