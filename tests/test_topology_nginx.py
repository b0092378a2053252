"""Two `feltsync serve` instances behind nginx (deploy/local_topology.py): sticky polling,
websocket upgrade, and an event published on one instance reaching clients on the other."""

import asyncio
import json
import os
import signal
import sys

from tests import services
from tests.factories import create_user
from tests.jsclient import run_node
from tests.services import ROOT, free_port, require
from tests.test_realtime_failover import JWT_SECRET


async def test_an_event_published_on_one_instance_reaches_clients_through_nginx_on_the_other(
        start_app, make_settings, pg_url, redis_url, redis_prefix, node_ready):
    require("nginx", services.probe_nginx())
    helper = await start_app(make_settings(database_url=pg_url, redis_url=redis_url))
    user = await create_user(helper)
    env = {**os.environ, "DATABASE_URL": pg_url, "REDIS_URL": redis_url, "REDIS_PREFIX": redis_prefix,
           "JWT_SECRET": JWT_SECRET, "ENV": "test", "LOG_LEVEL": "WARNING",
           "NGINX_PATH": services.NGINX_PATH}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "deploy" / "local_topology.py"), "--port", str(free_port()),
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        assert line, (await proc.stderr.read()).decode()[-3000:]
        topology = json.loads(line)
        assert len(topology["instances"]) == 2
        result = await run_node("topology.mjs", topology["url"], json.dumps(topology["instances"]),
                                str(user.id), user.token)
        assert "error" not in result, result
        assert result["via"][0] == result["via"][1]  # ip_hash: one client address, one instance
        assert result["published_on"] != result["via"][0]
        assert result["transports"] == ["websocket", "polling"]
        assert result["patch_status"] == 200
        assert [e["nickname"] for e in result["received"]] == ["Through nginx", "Through nginx"]
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
                await proc.wait()
    assert proc.returncode == 0
