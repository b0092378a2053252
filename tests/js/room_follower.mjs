// Room followers with the official socket.io client, the way an app keeps a room in sync:
// remember the last seq per room, rejoin with it after any disconnect (moving to the next
// server URL), ask `room:replay` for a gap, and never apply a seq twice.
// Usage: node room_follower.mjs '<json config>'
//   {urls, tokens:[..], rooms:[..], expect:{room: last_seq}, last_seq:{room: n}?,
//    until?: event name, until_rooms?: [rooms that must see it], pause_ms?: stop reading the
//    socket for this long after joining, timeout_ms?}
// Prints {"ready": true} once every client has joined, then one JSON line with the outcome.
import { io } from "socket.io-client";

const cfg = JSON.parse(process.argv[2]);
const timeoutMs = cfg.timeout_ms ?? 30000;
const emitAck = (socket, event, data) => socket.timeout(5000).emitWithAck(event, data);

function follower(index, token) {
  const state = {
    index, rooms: {}, duplicates: 0, gaps: 0, switches: 0, resyncs: [], closing: [],
    join_acks: [], connect_errors: [], disconnect_reasons: [], joined: false,
  };
  for (const room of cfg.rooms) state.rooms[room] = { last: cfg.last_seq?.[room] ?? null, seqs: [], events: [] };
  let urlIndex = index % cfg.urls.length;
  let socket = null;
  let done = false;

  const apply = (room, seq, event, data) => {
    const r = state.rooms[room];
    if (!r) return;
    if (r.last !== null && seq <= r.last) { state.duplicates += 1; return; }
    r.seqs.push(seq);
    r.events.push(event);
    r.last = seq;
  };

  const repair = async (room, toSeq) => {
    const r = state.rooms[room];
    while (r.last < toSeq) {
      const ack = await emitAck(socket, "room:replay", { room, after_seq: r.last });
      if (ack.status !== "ok" || ack.data.events.length === 0) return;
      for (const e of ack.data.events) apply(e.room, e.seq, e.event, e.data);
    }
  };

  const open = () => {
    const userRoom = cfg.rooms.find((r) => r.startsWith("user_"));
    const auth = { token, device_id: "dev-1" };
    if (userRoom && state.rooms[userRoom].last !== null) auth.last_seq = state.rooms[userRoom].last;
    socket = io(cfg.urls[urlIndex], { transports: ["websocket"], auth, reconnection: false, timeout: 5000 });
    socket.onAny(async (event, payload) => {
      if (event === "resync_required") { state.resyncs.push(payload); state.rooms[payload.room].last = payload.seq; return; }
      if (event === "session:closing") { state.closing.push(payload.reason); return; }
      if (!payload || typeof payload.seq !== "number" || !state.rooms[payload.room]) return;
      const r = state.rooms[payload.room];
      if (r.last !== null && payload.seq > r.last + 1) { state.gaps += 1; await repair(payload.room, payload.seq - 1); }
      apply(payload.room, payload.seq, event, payload.data);
    });
    socket.on("connect_error", (err) => { state.connect_errors.push(err.message); retry(); });
    socket.on("disconnect", (reason) => { state.disconnect_reasons.push(reason); if (!done) retry(); });
    socket.on("session:ready", async () => {
      for (const room of cfg.rooms) {
        if (room.startsWith("user_")) continue;
        const last = state.rooms[room].last;
        const ack = await emitAck(socket, "room:join", last === null ? { room } : { room, last_seq: last });
        state.join_acks.push(ack);
        if (ack.status === "ok" && state.rooms[room].last === null) state.rooms[room].last = ack.data.seq;
      }
      if (cfg.pause_ms && !state.joined) {
        const raw = socket.io.engine.transport.ws._socket;
        raw.pause();
        setTimeout(() => raw.resume(), cfg.pause_ms);
      }
      state.joined = true;
      check();
    });
  };

  let retrying = false;
  const retry = () => {
    if (retrying || done) return;
    retrying = true;
    socket.removeAllListeners();
    socket.close();
    urlIndex = (urlIndex + 1) % cfg.urls.length;
    state.switches += 1;
    setTimeout(() => { retrying = false; open(); }, 200);
  };

  let resolveDone;
  const finished = new Promise((resolve) => { resolveDone = resolve; });
  const check = () => {
    if (!state.joined) return;
    for (const [room, seq] of Object.entries(cfg.expect ?? {})) {
      if ((state.rooms[room].last ?? -1) < seq) return;
    }
    for (const room of cfg.until_rooms ?? []) {
      if (!state.rooms[room].events.includes(cfg.until)) return;
    }
    done = true;
    resolveDone();
  };
  const poll = setInterval(check, 50);
  state.finish = () => { clearInterval(poll); done = true; socket?.close(); };
  state.finished = finished;
  open();
  return state;
}

const clients = cfg.tokens.map((token, i) => follower(i, token));
let announced = false;
const announceReady = () => {
  if (!announced && clients.every((c) => c.joined)) { announced = true; console.log(JSON.stringify({ ready: true })); }
};
const readyPoll = setInterval(announceReady, 20);
const timer = setTimeout(() => report(true), timeoutMs);
await Promise.all(clients.map((c) => c.finished));
report(false);

function report(timedOut) {
  clearTimeout(timer);
  clearInterval(readyPoll);
  announceReady();
  for (const c of clients) c.finish();
  const out = clients.map(({ finish, finished, ...rest }) => rest);
  console.log(JSON.stringify({ timed_out: timedOut, clients: out }));
  process.exit(0);
}
