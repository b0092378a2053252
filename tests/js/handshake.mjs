// The official socket.io client against feltsync: connect, receive a server event, get an ack.
// Usage: node handshake.mjs URL TOKEN TRANSPORT   → prints one JSON line with what happened.
import { io } from "socket.io-client";

const [url, token, transport] = process.argv.slice(2);
const result = { transport };
const socket = io(url, {
  transports: [transport],
  auth: { token, device_id: "js-test" },
  reconnection: false,
  timeout: 5000,
});
const finish = (code) => { console.log(JSON.stringify(result)); socket.close(); process.exit(code); };
setTimeout(() => { result.error = "timeout"; finish(1); }, 10000);

socket.on("connect_error", (err) => {
  result.connect_error = { message: err.message, data: err.data ?? null };
  finish(0);
});
socket.on("session:ready", async (ready) => {
  result.ready = ready;
  result.engine_transport = socket.io.engine.transport.name;
  result.ack = await socket.timeout(5000).emitWithAck("system:ping", { nonce: "n-1" });
  result.bad_ack = await socket.timeout(5000).emitWithAck("system:ping", { nonce: 7, extra: true });
  finish(0);
});
