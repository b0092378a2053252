// A misbehaving client: an oversize event and a flood of events, through the official client.
// Usage: node abuse.mjs URL TOKEN CHANNEL FLOOD_COUNT   → prints the acks it got.
import { io } from "socket.io-client";

const [url, token, channel, floodCount] = process.argv.slice(2);
const socket = io(url, { transports: ["websocket"], auth: { token, device_id: "dev-1" }, reconnection: false });
const ack = (event, data) => socket.timeout(5000).emitWithAck(event, data);
setTimeout(() => { console.log(JSON.stringify({ error: "timeout" })); process.exit(1); }, 20000);
socket.on("session:ready", async () => {
  const result = {};
  // Just over the event limit (64 KiB): refused with an ack, the connection stays.
  result.oversize = await ack("chat:send", { channel, client_msg_id: "big", body: "x".repeat(64 * 1024 + 200) });
  const flood = await Promise.all(Array.from({ length: Number(floodCount) }, (_, i) => ack("system:ping", { nonce: `n${i}` })));
  result.flood_codes = flood.map((a) => (a.status === "ok" ? "ok" : a.error.code));
  result.after_flood = await new Promise((resolve) => setTimeout(async () => resolve(await ack("system:ping", {})), 1100));
  result.connected = socket.connected;
  // Far over the transport's frame limit: the server closes the connection without reading it.
  socket.on("disconnect", (reason) => {
    result.huge_disconnect = reason;
    console.log(JSON.stringify(result));
    process.exit(0);
  });
  socket.emit("chat:send", { channel, client_msg_id: "huge", body: "x".repeat(1024 * 1024) });
});
