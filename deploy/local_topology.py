"""Two feltsync instances behind nginx on this machine, without containers.

    python deploy/local_topology.py --port 8080

DATABASE_URL, REDIS_URL and JWT_SECRET come from the environment (shared by both instances:
Redis carries the fan-out between them). Prints one JSON line once everything answers
({"url": nginx, "instances": {instance_id: url}}), then runs until SIGTERM or Ctrl-C and stops
what it started.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = Path(__file__).with_name("nginx.conf.template")
NGINX = os.environ.get("NGINX_PATH", "/usr/sbin/nginx")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ok(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"{url} did not answer within {timeout}s")
        time.sleep(0.1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080, help="nginx listens on 127.0.0.1:PORT")
    parser.add_argument("--instances", type=int, default=2)
    args = parser.parse_args()
    for name in ("DATABASE_URL", "REDIS_URL", "JWT_SECRET"):
        if not os.environ.get(name):
            raise SystemExit(f"{name} must be set")

    run_dir = Path(tempfile.mkdtemp(prefix="feltsync-topology-"))
    children: list[subprocess.Popen[bytes]] = []

    def stop(*_: object) -> None:
        for child in reversed(children):
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        instances: dict[str, str] = {}
        for index in range(args.instances):
            port, instance_id = free_port(), f"node{index + 1}"
            env = {**os.environ, "PORT": str(port), "INSTANCE_ID": instance_id,
                   "VAR_DIR": str(run_dir / instance_id),
                   "TRUSTED_PROXIES": os.environ.get("TRUSTED_PROXIES", "127.0.0.1/32"),
                   # One migrates, the others wait for it to be answering first.
                   "MIGRATE_ON_START": "true" if index == 0 else "false"}
            # stdout carries only the ready line: the instances' own output goes to stderr.
            children.append(subprocess.Popen([sys.executable, "-m", "server", "serve"], cwd=ROOT,
                                             env=env, stdout=sys.stderr))
            instances[instance_id] = f"http://127.0.0.1:{port}"
            wait_ok(instances[instance_id] + "/healthz")
        upstreams = "\n".join(f"        server {url.removeprefix('http://')};"
                              for url in instances.values())
        conf = run_dir / "nginx.conf"
        conf.write_text(string.Template(TEMPLATE.read_text()).safe_substitute(
            RUN_DIR=run_dir, LISTEN_PORT=args.port, UPSTREAM_SERVERS=upstreams))
        children.append(subprocess.Popen([NGINX, "-p", str(run_dir), "-c", str(conf),
                                          "-g", "daemon off;"]))
        url = f"http://127.0.0.1:{args.port}"
        wait_ok(url + "/healthz")
        print(json.dumps({"url": url, "instances": instances}), flush=True)
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        print("a child exited: stopping", file=sys.stderr, flush=True)
    finally:
        stop()
    return 1


if __name__ == "__main__":
    sys.exit(main())
