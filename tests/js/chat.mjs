// Table chat through the official client: a sender and a listener in the same channel.
// Usage: node chat.mjs URL SENDER_TOKEN LISTENER_TOKEN CHANNEL PRIVATE_CHANNEL → prints acks and what arrived.
import { io } from "socket.io-client";

const [url, senderToken, listenerToken, channel, privateChannel] = process.argv.slice(2);
const connect = (token) => new Promise((resolve) => {
  const s = io(url, { transports: ["websocket"], auth: { token, device_id: "dev-1" }, reconnection: false });
  s.on("session:ready", () => resolve(s));
});
const ack = (s, event, data) => s.timeout(5000).emitWithAck(event, data);
setTimeout(() => { console.log(JSON.stringify({ error: "timeout" })); process.exit(1); }, 20000);

const listener = await connect(listenerToken);
const heard = [];
listener.on("chat:message", (e) => heard.push(e));
await ack(listener, "room:join", { room: channel });
const sender = await connect(senderToken);
const result = { join: await ack(sender, "room:join", { room: channel }) };
result.saved = await ack(sender, "chat:send", { channel, client_msg_id: "c-1", body: "  hello table  " });
result.resent = await ack(sender, "chat:send", { channel, client_msg_id: "c-1", body: "hello table" });
result.second = await ack(sender, "chat:send", { channel, client_msg_id: "c-2", body: "second" });
result.blank = await ack(sender, "chat:send", { channel, client_msg_id: "c-3", body: "   " });
result.too_long = await ack(sender, "chat:send", { channel, client_msg_id: "c-4", body: "z".repeat(101) });
result.bad_id = await ack(sender, "chat:send", { channel, client_msg_id: "", body: "x" });
result.extra = await ack(sender, "chat:send", { channel, client_msg_id: "c-5", body: "x", user_id: 1 });
result.private = await ack(sender, "chat:send", { channel: privateChannel, client_msg_id: "c-6", body: "psst" });
await new Promise((r) => setTimeout(r, 300));
result.heard = heard;
console.log(JSON.stringify(result));
process.exit(0);
