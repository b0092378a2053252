"""The SDK's generated types and its committed bundle match the sources they come from."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests import services
from tests.services import require

SDK = services.ROOT / "sdk"


@pytest.fixture(scope="module")
def sdk_tools() -> None:
    require("sdk", services.probe_sdk())


def run(*args: str, cwd=SDK) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, timeout=300,
                          check=False)


def test_generated_types_match_the_server_schemas(sdk_tools):
    done = run(sys.executable, "scripts/gen_ts_types.py", "--check", cwd=services.ROOT)
    assert done.returncode == 0, done.stderr + "\nrun `make types` and commit the result"


def test_generated_types_name_every_client_event(sdk_tools):
    from events import all_events

    text = (SDK / "src" / "generated" / "protocol.ts").read_text()
    for spec in all_events():
        assert f'"{spec.name}":' in text, spec.name


def test_the_sdk_typechecks(sdk_tools):
    done = run("node", "node_modules/typescript/bin/tsc", "--noEmit", "-p", "tsconfig.json")
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_committed_bundle_is_built_from_the_current_sources(sdk_tools, tmp_path):
    fresh = tmp_path / "feltsync.js"
    done = run("npm", "run", "--silent", "build", "--", f"--outfile={fresh}")
    assert done.returncode == 0, done.stderr
    assert fresh.read_bytes() == (SDK / "dist" / "feltsync.js").read_bytes(), \
        "sdk/dist/feltsync.js is stale: run `make sdk` and commit it"
