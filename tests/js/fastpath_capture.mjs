// Capture what the official client receives, byte for byte: every Engine.IO message packet's
// text (both transports) and, on websocket, each raw frame payload as the ws library saw it.
// Usage: node fastpath_capture.mjs URL TOKEN TRANSPORT COUNT → one JSON line after COUNT "probe:event"s.
import { io } from "socket.io-client";

const [url, token, transport, count] = process.argv.slice(2);
const want = Number(count);
const result = { transport, packets: [], frames: [], events: [] };
const socket = io(url, { transports: [transport], auth: { token, device_id: "dev-1" },
                         reconnection: false, timeout: 5000 });
// U+2028/2029 escaped: the line reader on the other side splits on them.
const line = (o) => JSON.stringify(o).replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
const finish = (code) => { socket.close(); process.stdout.write(line(result) + "\n", () => process.exit(code)); };
setTimeout(() => { result.error = "timeout"; finish(1); }, 20000);

socket.io.on("open", () => {
  const engine = socket.io.engine;
  engine.on("packet", (p) => { if (p.type === "message" && p.data.includes("probe:event")) result.packets.push(p.data); });
  const ws = engine.transport.ws;
  if (ws && typeof ws.on === "function") {
    ws.on("message", (data) => { const s = data.toString("utf8"); if (s.includes("probe:event")) result.frames.push(s); });
  }
});
socket.on("connect_error", (err) => { result.connect_error = err.message; finish(1); });
socket.on("session:ready", (ready) => { result.ready = ready; });
socket.on("probe:event", (data) => {
  result.events.push(data);
  if (result.events.length === want) finish(0);
});
