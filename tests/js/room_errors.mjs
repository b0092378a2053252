// Bad room:join / room:replay payloads through the official client; prints every ack.
// Usage: node room_errors.mjs URL TOKEN USER_ID
import { io } from "socket.io-client";

const [url, token, userId] = process.argv.slice(2);
const socket = io(url, { transports: ["websocket"], auth: { token, device_id: "dev-1" }, reconnection: false });
const ack = (event, data) => socket.timeout(5000).emitWithAck(event, data);
setTimeout(() => { console.log(JSON.stringify({ error: "timeout" })); process.exit(1); }, 15000);
socket.on("session:ready", async () => {
  const own = `user_${userId}`;
  const result = {
    join_bad_name: await ack("room:join", { room: "../etc" }),
    join_extra_key: await ack("room:join", { room: own, admin: true }),
    join_negative_seq: await ack("room:join", { room: own, last_seq: -1 }),
    join_ahead: await ack("room:join", { room: "table_openahead", last_seq: 10 ** 9 }),
    replay_ahead: await ack("room:replay", { room: own, after_seq: 10 ** 9 }),
    replay_other_user: await ack("room:replay", { room: `user_${Number(userId) + 1}`, after_seq: 0 }),
    join_other_user: await ack("room:join", { room: `user_${Number(userId) + 1}`, last_seq: 0 }),
    join_own: await ack("room:join", { room: own }),
  };
  console.log(JSON.stringify(result));
  socket.close();
  process.exit(0);
});
