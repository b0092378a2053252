// A bare socket.io-client typed with the generated event maps: the compiler checks every event
// name, payload field and ack answer below against the server's schemas (tests/test_ts_types.py).
import { io, type Socket } from "socket.io-client";

import type {
  ClientToServerEvents, ConsoleState, JoinReply, ServerToClientEvents,
} from "../src/generated/protocol.js";

export type FeltsyncSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export function connect(url: string, token: string, deviceId: string): FeltsyncSocket {
  const socket: FeltsyncSocket = io(url, {
    transports: ["websocket"], auth: { token, device_id: deviceId },
  });
  socket.on("session:ready", (ready) => {
    console.log(`user ${ready.user_id} on instance ${ready.instance}, until ${ready.expires_at}`);
  });
  socket.on("chat:message", ({ room, seq, data }) => {
    console.log(`${room} #${seq} user ${data.user_id}: ${data.body.trim()}`);
  });
  socket.on("tournament:update", ({ seq, data }) => {
    const chipLeader = [...data.state.players].sort((a, b) => b.stack - a.stack)[0];
    console.log(`#${seq} level ${data.state.level}: ${chipLeader?.player_id} leads`);
  });
  socket.on("game:switch", ({ data }) => console.log(`${data.from} → ${data.to}`));
  socket.on("model:update", ({ data }) => {
    if (data.model_update_required && data.reason !== "connect") console.log(data.version);
  });
  socket.on("sync:poke", ({ data }) => console.log(`pull past clock ${data.clock}`));
  socket.on("session:closing", ({ reason }) => console.log(`closing: ${reason}`));
  return socket;
}

/** Join a tournament's room, resuming after `lastSeq`; the ack's data, or the refusal thrown. */
export async function joinTournament(socket: FeltsyncSocket, tournamentId: string,
                                     lastSeq?: number): Promise<JoinReply> {
  const answer = await socket.timeout(5000).emitWithAck("tournament:join", {
    tournament_id: tournamentId, last_seq: lastSeq ?? null,
  });
  if (answer.status === "error") throw new Error(`${answer.error.code}: ${answer.error.message}`);
  return answer.data;
}

export function sendChat(socket: FeltsyncSocket, channel: string, body: string): void {
  socket.emit("chat:send", { channel, client_msg_id: crypto.randomUUID(), body }, (answer) => {
    if (answer.status === "ok") console.log(`saved as #${answer.data.message.seq}`);
    else console.warn(answer.error.code);
  });
}

/** An administrator's feed: calls `render` with every snapshot. */
export function watchConsole(socket: FeltsyncSocket, render: (state: ConsoleState) => void): void {
  socket.on("console:state", render);
  socket.emit("console:subscribe", {}, (answer) => {
    if (answer.status === "error") console.warn(`console refused: ${answer.error.message}`);
    else console.log(`a snapshot every ${answer.data.interval_s} s`);
  });
}
