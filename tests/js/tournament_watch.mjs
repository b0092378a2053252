// Joins a tournament room and records every raw frame until the tournament finishes.
// Usage: node tournament_watch.mjs URL TOKEN TOURNAMENT_ID [SECONDS]
// Prints {"joined": ack} as soon as the join is answered, then one JSON line with everything.
import { io } from "socket.io-client";

const [url, token, tournamentId, seconds = "60"] = process.argv.slice(2);
const frames = [];
const events = [];
const socket = io(url, { transports: ["websocket"], auth: { token }, reconnection: false });
const finish = (extra) => {
  socket.close();
  // Exit only once the (possibly large) line is flushed: a pipe write is asynchronous.
  process.stdout.write(JSON.stringify({ frames, events, ...extra }) + "\n", () => process.exit(0));
};
setTimeout(() => finish({ error: "timeout" }), Number(seconds) * 1000);
socket.io.on("open", () => socket.io.engine.on("packet", (p) => frames.push(String(p.data ?? ""))));
socket.on("connect_error", (err) => finish({ connect_error: err.message }));
socket.onAny((name, payload) => {
  events.push({ name, payload });
  if (name === "tournament:finished") setTimeout(() => finish({}), 200);
});
socket.on("session:ready", async () => {
  const ack = await socket.timeout(5000).emitWithAck("tournament:join", { tournament_id: tournamentId });
  console.log(JSON.stringify({ joined: ack }));
  if (ack.status !== "ok") finish({ refused: ack });
});
