// A client that holds some models: connect with auth.models, report `model:update` notices.
// Usage: node model_update.mjs URL TOKEN MODELS_JSON [STOP_VERSION]
// Prints {"ready": true, ...} once connected (after a ping round trip, so every notice sent
// at connect time has arrived), then, when STOP_VERSION is given, waits for the notice that
// names it and prints the final JSON line with everything received.
import { io } from "socket.io-client";

const [url, token, models, stopVersion] = process.argv.slice(2);
const result = { connect_notices: [], notices: [] };
let connected = false;
const socket = io(url, {
  transports: ["websocket"],
  auth: { token, device_id: "js-models", models: JSON.parse(models) },
  reconnection: false,
  timeout: 5000,
});
const finish = (code) => { console.log(JSON.stringify(result)); socket.close(); process.exit(code); };
setTimeout(() => { result.error = "timeout"; finish(1); }, 20000);

socket.on("connect_error", (err) => {
  result.connect_error = { message: err.message, data: err.data ?? null };
  finish(0);
});
socket.on("model:update", (notice) => {
  (connected ? result.notices : result.connect_notices).push(notice);
  if (connected && stopVersion && notice.data.version === stopVersion) finish(0);
});
socket.on("session:ready", async () => {
  await socket.timeout(5000).emitWithAck("system:ping", {});
  connected = true;
  result.ready = true;
  if (!stopVersion) finish(0);
  console.log(JSON.stringify({ ready: true, connect_notices: result.connect_notices }));
});
