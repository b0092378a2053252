"""client-sim's fanout, tournaments, reconnect-storm and offline-flush scenarios, run small
through the CLI against a real server, and the seq checker that decides whether anything was
lost."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from client_sim.seqcheck import check_sequence

from tests.factories import create_user

# Load-test settings: one address sends everything, and the chat publisher is fast.
LOAD_LIMITS = {"rest_ip_limit": "100000/minute", "socket_event_rate": 1000.0,
               "socket_event_burst": 1000}


async def token_file(server: Any, count: int, path: Path) -> Path:
    users = [await create_user(server) for _ in range(count)]
    path.write_text("\n".join(u.token for u in users) + "\n")
    return path


async def run_cli(server: Any, tmp_path: Path, scenario: str, *args: str,
                  timeout: float = 60) -> tuple[int, dict[str, Any], str]:
    out = tmp_path / f"{scenario}.json"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "client_sim.cli", "run", scenario, "--url", server.url,
        "--json", str(out), "--html", str(tmp_path / f"{scenario}.html"), *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        printed, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    text = printed.decode(errors="replace")
    assert out.exists(), text
    return proc.returncode, json.loads(out.read_text()), text


async def refused(*args: str) -> bytes:
    """Run the CLI with bad options: it must exit 2; what it printed."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "client_sim.cli", "run", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    printed, _ = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2, printed
    return printed


def plots_in(report: Path) -> int:
    return report.read_text().count("data:image/png;base64,")


# -- the checker ----------------------------------------------------------------------------

def test_a_contiguous_stream_is_clean():
    check = check_sequence(10, [11, 12, 13, 14], head=14)
    assert check.clean and check.seen == 4


def test_a_gap_is_counted_as_lost():
    check = check_sequence(10, [11, 12, 15, 16], head=16)
    assert (check.lost, check.duplicated) == (2, 0) and not check.clean


def test_a_repeated_seq_is_counted_as_duplicated():
    check = check_sequence(0, [1, 2, 2, 3, 1], head=3)
    assert (check.lost, check.duplicated) == (0, 2) and not check.clean


def test_a_late_seq_is_out_of_order_not_lost():
    check = check_sequence(0, [1, 3, 2, 4], head=4)
    assert (check.lost, check.duplicated, check.out_of_order) == (0, 0, 1)


def test_events_missing_at_the_end_are_lost():
    check = check_sequence(5, [6, 7], head=10)
    assert check.lost == 3


def test_events_before_the_join_ack_wait_for_it():
    from client_sim.seqcheck import SeqCheck

    check = SeqCheck()
    check.see(8)  # a live event overtook the ack
    check.start(7)
    check.see(9)
    check.finish(9)
    assert check.clean and check.seen == 2 and check.last == 9


# -- the scenarios against a server ---------------------------------------------------------

@pytest.mark.parametrize("read_batch_ms", ["0", "1"])
async def test_fanout_counts_every_delivery_with_or_without_read_batching(
        read_batch_ms, start_app, make_settings, tmp_path):
    server = await start_app(make_settings(bench_room=True, **LOAD_LIMITS))
    tokens = await token_file(server, 21, tmp_path / "tokens.txt")
    code, result, printed = await run_cli(
        server, tmp_path, "fanout", "--tokens", str(tokens), "--clients", "20", "--rate", "5",
        "--seconds", "1", "--burst", "30", "--processes", "2", "--read-batch-ms", read_batch_ms)
    assert code == 0, printed
    assert (result["connected"], result["processes"]) == (20, 2)
    assert result["read_batch_ms"] == float(read_batch_ms)
    assert result["lost_in_latency_phase"] == 0 and len(result["latencies_ms"]) == 20 * 5
    assert result["burst_delivered"] == result["burst_expected"] == 20 * 30
    assert result["deliveries_per_s"] > 0 and 0 < result["p50_ms"] <= result["p99_ms"]
    assert plots_in(tmp_path / "fanout.html") == 2  # latency CDF, deliveries/s over time


async def test_tournaments_every_watcher_gets_every_snapshot_once_in_order(
        start_app, make_settings, tmp_path):
    server = await start_app(make_settings(**LOAD_LIMITS))
    tokens = await token_file(server, 4 + 20, tmp_path / "tokens.txt")
    code, result, printed = await run_cli(
        server, tmp_path, "tournaments", "--tokens", str(tokens), "--clients", "20",
        "--tournaments", "4", "--snapshots", "5", "--rate", "5", "--players", "4",
        "--processes", "2", "--per-process", "10")
    assert code == 0, printed
    assert result["ok"] is True and result["processes"] == 2
    assert (result["created"], result["joined"], result["snapshots_accepted"]) == (4, 20, 20)
    assert result["updates_expected"] == result["updates_received"] == 20 * 5
    assert all(result[k] == 0 for k in ("lost", "duplicated", "out_of_order", "updates_missed",
                                        "updates_duplicated", "updates_misordered"))
    assert len(result["fanout_latencies_ms"]) == 100 and result["fanout_p99_ms"] > 0
    assert len(result["accept_latencies_ms"]) == 20
    assert plots_in(tmp_path / "tournaments.html") == 3


async def test_reconnect_storm_loses_and_repeats_nothing(start_app, make_settings, pg_url,
                                                         redis_url, tmp_path):
    # A grace longer than any reconnect on a loaded machine, so no drop is announced.
    server = await start_app(make_settings(database_url=pg_url, redis_url=redis_url,
                                           presence_leave_grace=60, **LOAD_LIMITS))
    tokens = await token_file(server, 21, tmp_path / "tokens.txt")
    code, result, printed = await run_cli(
        server, tmp_path, "reconnect-storm", "--tokens", str(tokens), "--clients", "20",
        "--rate", "10", "--seconds", "3", "--drops", "2", "--processes", "2",
        "--per-process", "10")
    assert code == 0, printed
    assert result["ok"] is True and result["joined"] == 20
    assert result["published"] == 30
    assert (result["reconnected"], result["reconnect_failed"]) == (40, 0)
    assert (result["lost"], result["duplicated"], result["out_of_order"]) == (0, 0, 0)
    # Everyone came back within the presence leave grace, so the drops logged no presence:leave
    # or second presence:join: the room holds its creation, the first joins and the chat only.
    assert result["head_seq"] == 1 + 20 + result["published"]
    assert result["replayed"] > 0  # the chat each dropped member missed, resumed from the log
    assert len(result["reconnect_latencies_ms"]) == 40
    assert plots_in(tmp_path / "reconnect-storm.html") == 2


async def test_offline_flush_stores_each_record_once_despite_the_resend(
        start_app, make_settings, pg_url, tmp_path):
    server = await start_app(make_settings(database_url=pg_url, **LOAD_LIMITS))
    tokens = await token_file(server, 20, tmp_path / "tokens.txt")
    code, result, printed = await run_cli(
        server, tmp_path, "offline-flush", "--tokens", str(tokens), "--clients", "20",
        "--records", "30", "--batch-size", "8", "--processes", "2", "--per-process", "10")
    assert code == 0, printed
    assert result["ok"] is True
    assert result["expected"] == result["acknowledged"] == result["stored"] == 600
    assert (result["missing"], result["stored_twice"], result["unexpected"]) == (0, 0, 0)
    assert result["resend_mismatches"] == result["item_errors"] == result["failed_calls"] == 0
    assert result["requests"] == 20 * 4 * 2  # four batches per user, each sent twice
    assert plots_in(tmp_path / "offline-flush.html") == 2


async def test_a_run_whose_checks_fail_exits_nonzero(start_app, make_settings, tmp_path):
    server = await start_app(make_settings(**LOAD_LIMITS))
    good = await create_user(server)
    stranger = server.access_token(10**9)  # signed, but for no account: refused
    tokens = tmp_path / "tokens.txt"
    tokens.write_text(f"{good.token}\n{stranger}\n")
    code, result, _ = await run_cli(server, tmp_path, "offline-flush", "--tokens", str(tokens),
                                    "--clients", "2", "--records", "3")
    assert code == 1 and result["ok"] is False
    assert result["stored"] == 3 and result["failed_calls"] == 2 and result["unlisted"] == 1


@pytest.mark.parametrize("scenario", ["tournaments", "reconnect-storm", "offline-flush"])
async def test_the_new_scenarios_refuse_to_run_without_tokens(scenario, tmp_path):
    assert b"needs --tokens" in await refused(scenario, "--clients", "2")


@pytest.mark.parametrize("option, value, message", [
    ("--outage", "-1", b"--outage and --read-batch-ms must not be negative"),
    ("--drop-fraction", "1.5", b"--drop-fraction must be in (0, 1]"),
])
async def test_reconnect_storm_refuses_impossible_storms(option, value, message, tmp_path):
    tokens = tmp_path / "tokens.txt"
    tokens.write_text("x\ny\n")
    assert message in await refused("reconnect-storm", "--tokens", str(tokens), "--clients", "1",
                                    option, value)
