// Two devices of one user connect and wait for server-sent `rating:update` events.
// Usage: node rating_update.mjs URL TOKEN EXPECTED → prints one JSON line:
// {"devices": [[event, ...], [event, ...]]} once each device has EXPECTED events (or on timeout).
import { io } from "socket.io-client";

const [url, token, expectedArg] = process.argv.slice(2);
const expected = Number(expectedArg);
const devices = [[], []];
let ready = 0;
const sockets = devices.map((received, i) => {
  const socket = io(url, {
    transports: ["websocket"], auth: { token, device_id: `js-rating-${i}` },
    reconnection: false, timeout: 5000,
  });
  socket.on("connect_error", (err) => finish({ connect_error: err.message }));
  socket.on("session:ready", () => { ready += 1; });
  socket.on("rating:update", (event) => {
    received.push(event);
    if (devices.every((d) => d.length >= expected)) finish({});
  });
  return socket;
});
function finish(extra) {
  console.log(JSON.stringify({ ready, devices, ...extra }));
  sockets.forEach((s) => s.close());
  process.exit(0);
}
setTimeout(() => finish({ error: "timeout" }), 15000);
