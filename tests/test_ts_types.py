"""The socket.io-client typings: regenerated they equal the committed file, a typed client
compiles against them, and the compiler rejects a client that gets an event's shape wrong."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests import services
from tests.services import require

SDK = services.ROOT / "sdk"
GENERATED = SDK / "src" / "generated"
CLIENT = SDK / "typecheck" / "socket_client.ts"
TSC = SDK / "node_modules" / "typescript" / "bin" / "tsc"


@pytest.fixture(scope="module")
def sdk_tools() -> None:
    require("sdk", services.probe_sdk())


def tsc(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["node", str(TSC), "--noEmit", "-p", str(project)], cwd=project.parent,
                          capture_output=True, text=True, timeout=300, check=False)


def test_regenerated_types_equal_the_committed_ones(sdk_tools, tmp_path):
    done = subprocess.run([sys.executable, "scripts/gen_ts_types.py", "--output",
                           str(tmp_path / "protocol.ts")], cwd=services.ROOT,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    for fresh in tmp_path.iterdir():
        committed = GENERATED / fresh.name
        assert committed.is_file(), f"{fresh.name} is generated but not committed"
        assert fresh.read_text() == committed.read_text(), \
            f"sdk/src/generated/{fresh.name} is stale: run `make types` and commit it"


def test_the_event_maps_name_every_event_both_ways(sdk_tools):
    from events import all_events
    from events.schemas import REPLIES, SERVER_EVENTS

    text = (GENERATED / "protocol.ts").read_text()
    server_map = text[text.index("export interface ServerToClientEvents"):]
    client_map = text[text.index("export interface ClientToServerEvents"):]
    for event in SERVER_EVENTS:
        assert re.search(rf'"?{re.escape(event.name)}"?: \(payload: [^)]*{event.data.__name__}',
                         server_map), event.name
    for spec in all_events():
        assert f'"{spec.name}": (' in client_map, spec.name
        assert f"AckEnvelope<{REPLIES[spec.name].__name__}>" in client_map


def test_a_typed_socket_client_compiles(sdk_tools):
    done = tsc(CLIENT.parent / "tsconfig.json")
    assert done.returncode == 0, done.stdout + done.stderr


# Each mistake replaces one line of the client; the compiler must reject exactly those lines.
MISTAKES = {
    "a payload field of the wrong type": (
        "tournament_id: tournamentId, last_seq: lastSeq ?? null,",
        "tournament_id: 42, last_seq: lastSeq ?? null,"),
    "a listener that reads a field as the wrong type": (
        "${data.body.trim()}", "${data.body.toFixed(1)}"),
    "a listener that reads a field the event does not have": (
        'console.log(`pull past clock ${data.clock}`)', 'console.log(`pull past ${data.since}`)'),
    "an ack answer read as the wrong type": (
        "console.log(`saved as #${answer.data.message.seq}`)",
        "console.log(`saved as #${answer.data.message.seq.toUpperCase()}`)"),
    "an unknown payload key": (
        'socket.emit("console:subscribe", {}, (answer) => {',
        'socket.emit("console:subscribe", {verbose: true}, (answer) => {'),
    "an event that does not exist": (
        'socket.on("session:closing", ', 'socket.on("session:closed", '),
}


def test_the_compiler_rejects_each_wrong_usage(sdk_tools, tmp_path):
    # The same layout as sdk/, with the real sources and packages linked in.
    for name in ("node_modules", "src"):
        (tmp_path / name).symlink_to(SDK / name)
    (tmp_path / "tsconfig.json").write_text((SDK / "tsconfig.json").read_text())
    (tmp_path / "typecheck").mkdir()
    (tmp_path / "typecheck" / "tsconfig.json").write_text(
        (CLIENT.parent / "tsconfig.json").read_text())
    source = CLIENT.read_text()
    wrong_lines = {}
    for why, (right, wrong) in MISTAKES.items():
        assert source.count(right) == 1, f"{why}: the client no longer has {right!r}"
        source = source.replace(right, wrong)
        wrong_lines[why] = source[:source.index(wrong)].count("\n") + 1
    (tmp_path / "typecheck" / CLIENT.name).write_text(source)

    done = tsc(tmp_path / "typecheck" / "tsconfig.json")

    assert done.returncode != 0
    rejected = {int(m) for m in re.findall(rf"{CLIENT.name}\((\d+),\d+\): error TS", done.stdout)}
    for why, line in wrong_lines.items():
        assert line in rejected, f"{why} (line {line}) compiled:\n{done.stdout}"
    assert rejected <= set(wrong_lines.values()), done.stdout
