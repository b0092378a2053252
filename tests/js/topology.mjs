// Through nginx: a client (polling, upgraded to websocket) and a polling-only client land on
// one instance; a profile change made over REST on the OTHER instance reaches both.
// Usage: node topology.mjs NGINX_URL INSTANCES_JSON USER_ID TOKEN  → prints one JSON line.
import { io } from "socket.io-client";

const [nginxUrl, instancesJson, userId, token] = process.argv.slice(2);
const instances = JSON.parse(instancesJson);
const result = {};
const finish = (code) => { console.log(JSON.stringify(result)); process.exit(code); };
setTimeout(() => { result.error = "timeout"; finish(1); }, 20000);

function connect(transports, deviceId) {
  const socket = io(nginxUrl, { transports, auth: { token, device_id: deviceId }, reconnection: false });
  const ready = new Promise((resolve, reject) => {
    socket.once("session:ready", resolve);
    socket.once("connect_error", (err) => reject(err));
  });
  return { socket, ready };
}

const upgrading = connect(["polling", "websocket"], "upgrading");
const polling = connect(["polling"], "polling");
const [readyA, readyB] = await Promise.all([upgrading.ready, polling.ready]);
result.via = [readyA.instance, readyB.instance];
if (upgrading.socket.io.engine.transport.name !== "websocket") {
  await new Promise((resolve) => upgrading.socket.io.engine.once("upgrade", resolve));
}
result.transports = [upgrading.socket.io.engine.transport.name, polling.socket.io.engine.transport.name];

const other = Object.keys(instances).find((id) => id !== readyA.instance);
result.published_on = other;
const api = `${instances[other]}/api/v1/user/${userId}`;
const headers = { Authorization: `Bearer ${token}`, "Content-Type": "application/json" };
const heard = [upgrading.socket, polling.socket].map(
  (s) => new Promise((resolve) => s.once("profile:update", resolve)));
const current = await (await fetch(api, { headers })).json();
const patched = await fetch(api, { method: "PATCH", headers,
  body: JSON.stringify({ nickname: "Through nginx", version: current.data.version }) });
result.patch_status = patched.status;
result.received = (await Promise.all(heard)).map((e) => e.data);
upgrading.socket.close();
polling.socket.close();
finish(0);
