"""Two real socket.io JS clients of one user: live settings sync and device revoke."""

import pytest

from tests.accounts_kit import login, signup
from tests.jsclient import run_node

pytestmark = pytest.mark.usefixtures("node_ready")


async def test_settings_reach_the_other_device_and_revoke_disconnects_it(server):
    name, phone = await signup(server, device_id="phone")
    tablet = (await login(server, name, device_id="tablet")).data

    result = await run_node("accounts_devices.mjs", server.url, str(phone["user_id"]),
                            phone["access_token"], tablet["access_token"])

    assert "error" not in result, result
    assert result["change_status"] == 200
    update = result["settings_update"]
    assert update["room"] == f"user_{phone['user_id']}" and update["seq"] >= 1
    assert update["data"]["theme"] == "dark" and update["data"]["se_on"] is False
    assert update["data"]["version"] == 2 and update["data"]["device_id"] == "phone"

    assert result["revoke_status"] == 200
    assert result["b_session_revoked"]["data"]["device_id"] == "tablet"
    assert result["b_disconnect_reason"] == "io server disconnect"
    assert result["a_saw_revoke"]["data"]["device_id"] == "tablet"
    assert result["a_connected"] is True and result["a_ping"]["status"] == "ok"
    assert result["b_reconnect_error"] == "session_revoked"
    # Informational (timing is measured by bench/, never asserted): printed with -s.
    print(f"settings push {result['settings_push_ms']:.1f} ms, "
          f"revoke → disconnect {result['b_disconnect_ms']:.1f} ms")
