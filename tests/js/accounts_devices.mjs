// Two devices of one user with the official socket.io client: a settings change made over REST
// by device A reaches device B as `settings:update`; revoking B disconnects B at once, A stays.
// Usage: node accounts_devices.mjs URL USER_ID TOKEN_A TOKEN_B   → prints one JSON line.
import { io } from "socket.io-client";

const [url, userId, tokenA, tokenB] = process.argv.slice(2);
const api = `${url}/api/v1`;
const result = {};
const finish = (code) => {
  console.log(JSON.stringify(result));
  process.exit(code);
};
setTimeout(() => { result.error = "timeout"; finish(1); }, 15000);

function connect(token, deviceId) {
  const socket = io(url, { transports: ["websocket"], auth: { token, device_id: deviceId },
                           reconnection: false, timeout: 5000 });
  const ready = new Promise((resolve, reject) => {
    socket.once("session:ready", resolve);
    socket.once("connect_error", (err) => reject(new Error(`${deviceId}: ${err.message}`)));
  });
  return { socket, ready };
}

async function call(method, path, token, body) {
  const response = await fetch(api + path, {
    method, headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

try {
  const a = connect(tokenA, "phone");
  const b = connect(tokenB, "tablet");
  await Promise.all([a.ready, b.ready]);

  // 1. A changes settings over REST; B gets the push.
  const pushed = new Promise((resolve) => b.socket.once("settings:update", resolve));
  const started = performance.now();
  const change = await call("POST", `/user/${userId}`, tokenA,
                            { settings: { version: 1, theme: "dark", se_on: false } });
  result.change_status = change.status;
  result.settings_update = await pushed;
  result.settings_push_ms = performance.now() - started;

  // 2. A revokes B; B receives session:revoked and is disconnected by the server.
  const devices = await call("GET", "/auth/devices", tokenA);
  const tablet = devices.body.data.devices.find((d) => d.device_id === "tablet");
  const revokedEvent = new Promise((resolve) => b.socket.once("session:revoked", resolve));
  const disconnected = new Promise((resolve) => b.socket.once("disconnect", resolve));
  const aSawRevoke = new Promise((resolve) => a.socket.once("session:revoked", resolve));
  const revokeStarted = performance.now();
  result.revoke_status = (await call("POST", `/auth/devices/${tablet.id}/revoke`, tokenA)).status;
  result.b_session_revoked = await revokedEvent;
  result.b_disconnect_reason = await disconnected;
  result.b_disconnect_ms = performance.now() - revokeStarted;
  result.a_saw_revoke = await aSawRevoke;
  result.a_connected = a.socket.connected;
  result.a_ping = await a.socket.timeout(5000).emitWithAck("system:ping", { nonce: "still-here" });

  // 3. B's old token cannot come back.
  const again = connect(tokenB, "tablet");
  result.b_reconnect_error = await again.ready.then(() => null, (err) => err.message.split(": ").pop());
  again.socket.close();
  a.socket.close();
  finish(0);
} catch (err) {
  result.error = String(err);
  finish(1);
}
