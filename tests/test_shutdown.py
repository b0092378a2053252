"""SIGTERM on a real `feltsync serve` process: no new connections, the in-flight request
finishes, connected clients are told to reconnect, and the process exits cleanly."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import uuid

import aiohttp

from tests.factories import create_user
from tests.services import ROOT, free_port
from tests.test_realtime_failover import JWT_SECRET, wait_http


async def start_watcher(url: str, token: str, transport: str) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        "node", str(ROOT / "tests" / "js" / "shutdown_watch.mjs"), url, token, transport,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=ROOT)
    line = await asyncio.wait_for(proc.stdout.readline(), 15)
    assert json.loads(line or b"{}").get("ready") is True, line
    return proc


async def outcome(proc: asyncio.subprocess.Process) -> dict:
    out, err = await asyncio.wait_for(proc.communicate(), 25)
    lines = out.decode().strip().splitlines()
    assert lines, err.decode()[-2000:]
    return json.loads(lines[-1])


async def test_sigterm_drains_requests_tells_sockets_to_reconnect_and_exits_cleanly(
        start_app, make_settings, pg_url, redis_url, redis_prefix, tmp_path, node_ready):
    # An in-process app on the same database mints the token the subprocess accepts.
    helper = await start_app(make_settings(database_url=pg_url, redis_url=redis_url))
    user = await create_user(helper)
    port = free_port()
    env = {**os.environ, "DATABASE_URL": pg_url, "REDIS_URL": redis_url, "REDIS_PREFIX": redis_prefix,
           "PORT": str(port), "JWT_SECRET": JWT_SECRET, "VAR_DIR": str(tmp_path / "var"),
           "ENV": "test", "LOG_LEVEL": "WARNING", "BCRYPT_COST": "14"}
    proc = subprocess.Popen([sys.executable, "-m", "server", "serve"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_http(url)
        watchers = [await start_watcher(url, user.token, t) for t in ("websocket", "polling")]

        # A signup still hashing its password (bcrypt cost 14: about a second) when SIGTERM arrives.
        # (A request whose body is still uploading is not kept: aiohttp stops reading on shutdown.)
        login = f"drain_{uuid.uuid4().hex[:10]}"
        body = json.dumps({"login": login, "password": "long-enough-pw", "nickname": "Drain",
                           "device_id": "d1", "platform": "pc"}).encode()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /api/v1/auth/signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        await writer.drain()
        first = asyncio.ensure_future(reader.read(1))
        await asyncio.sleep(0.2)  # the handler is hashing
        assert not first.done(), "the signup answered before SIGTERM: nothing was in flight"
        proc.send_signal(signal.SIGTERM)

        results = [await outcome(w) for w in watchers]
        for result in results:
            assert result["closing"] == [{"reason": "shutdown"}], result
            assert result["disconnect"] == "io server disconnect", result

        # No new connections once shutting down.
        async with aiohttp.ClientSession() as http:
            try:
                async with http.get(url + "/healthz", timeout=aiohttp.ClientTimeout(total=2)) as r:
                    refused = False
                    status = r.status
            except (TimeoutError, aiohttp.ClientError):
                refused, status = True, None
        assert refused, f"a new request was served during shutdown ({status})"

        response = await asyncio.wait_for(first, 10) + await asyncio.wait_for(reader.read(), 10)
        writer.close()
        assert response.startswith(b"HTTP/1.1 201"), response[:300]
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    stderr = proc.stderr.read().decode()
    assert "Traceback" not in stderr, stderr[-3000:]
