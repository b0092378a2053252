// The feltsync admin console: signs in through the SDK, subscribes over its socket and renders
// every `console:state` snapshot. Only administrators pass `console:subscribe`.
import { FeltsyncClient } from "./feltsync.js";

const $ = (id) => document.getElementById(id);
const SUBSCRIBE_TIMEOUT_MS = 10000;

const client = await FeltsyncClient.open({
  storeName: "feltsync-console", deviceName: "admin console", platform: "pc",
});
window.feltsyncConsole = client; // for the browser tests

let listeningOn = null; // the socket object our `console:state` listener is attached to
let subscribedAs = null; // the socket id that subscribed last

function showSignedIn(signedIn) {
  $("login-view").hidden = signedIn;
  $("console-view").hidden = !signedIn;
  if (signedIn) $("user-id").textContent = client.userId;
  else document.body.dataset.console = "signed-out";
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  $("login-error").textContent = "";
  try {
    await client.login(form.get("login"), form.get("password"));
    showSignedIn(true);
    onStatus();
  } catch (err) {
    $("login-error").textContent = `${err.code ?? "error"}: ${err.message}`;
  }
});
$("logout-button").addEventListener("click", () => client.logout());
client.on("signed-out", () => showSignedIn(false));

// --- the subscription, renewed on every (re)connect -------------------------------------------

function onStatus() {
  const status = client.status;
  const el = $("status");
  el.textContent = !status.online ? "offline" : status.connected ? `live (${status.transport})` : "connecting…";
  el.dataset.connected = String(status.connected);
  const socket = client.socket;
  if (!socket) return;
  if (listeningOn !== socket) {
    listeningOn = socket;
    socket.on("console:state", render);
  }
  if (status.connected && subscribedAs !== socket.id) {
    subscribedAs = socket.id;
    subscribe(socket);
  }
}
client.on("status", onStatus);

async function subscribe(socket) {
  let answer;
  try {
    answer = await socket.timeout(SUBSCRIBE_TIMEOUT_MS).emitWithAck("console:subscribe", {});
  } catch (err) {
    subscribedAs = null; // no answer: try again on the next status change
    showError("timeout", String(err.message ?? err));
    return;
  }
  if (answer.status === "ok") {
    $("console-error").hidden = true;
    document.body.dataset.console = "subscribed";
  } else {
    showError(answer.error.code, answer.error.message);
    document.body.dataset.console = "refused";
  }
}

function showError(code, message) {
  const el = $("console-error");
  el.hidden = false;
  el.dataset.code = code;
  el.textContent = `Refused — ${code}: ${message}`;
}

// --- rendering: text only, never markup from the server ---------------------------------------

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text ?? "–";
  return td;
}

function row(data, ...cells) {
  const tr = document.createElement("tr");
  Object.assign(tr.dataset, data);
  tr.append(...cells.map(cell));
  return tr;
}

function fill(id, rows) {
  $(id).replaceChildren(...rows);
}

function listed(ids, total) {
  return ids.length < total ? `${ids.join(", ")} … (${total})` : ids.join(", ");
}

function bytes(n) {
  return n >= 1048576 ? `${(n / 1048576).toFixed(1)} MB` : n >= 1024 ? `${(n / 1024).toFixed(1)} kB` : `${n} B`;
}

function render(state) {
  document.body.dataset.console = "live";
  $("instance").textContent = state.instance;
  $("updated").textContent = new Date(state.server_time * 1000).toLocaleTimeString();
  $("updated").dataset.serverTime = state.server_time;

  const c = state.connections;
  $("socket-count").textContent = c.sockets;
  $("user-count").textContent = c.users;
  fill("connection-rows", c.by_user.map((u) => row(
    { userId: u.user_id, sockets: u.sockets }, u.user_id, u.nickname, u.sockets, u.devices.join(", "))));

  const r = state.rates;
  $("published-rate").textContent = r.published_per_s ?? "–";
  $("delivered-rate").textContent = r.delivered_per_s ?? "–";
  $("published-total").textContent = r.published_total;
  $("delivered-total").textContent = r.delivered_total;

  fill("room-rows", state.rooms.map((room) => row(
    { room: room.room, sockets: room.sockets, users: room.users },
    room.room, room.sockets, listed(room.user_ids, room.users), room.seq)));

  fill("model-rows", state.models.map((m) => row(
    { family: m.family, version: m.version },
    m.family, m.version, m.type, bytes(m.size), m.versions_published)));

  const t = state.tournaments;
  $("tournament-counts").textContent = Object.entries(t.by_status)
    .map(([status, n]) => `${status}: ${n}`).join(" · ") || "none yet";
  fill("tournament-rows", t.active.map((x) => row(
    { tournamentId: x.tournament_id, status: x.status, players: x.players },
    x.tournament_id, x.name, x.status, `${x.players_left}/${x.players}`, x.level)));

  $("recent-events").replaceChildren(...state.recent_events.map((log) => {
    const box = document.createElement("div");
    box.dataset.room = log.room;
    const title = document.createElement("h3");
    title.textContent = log.room;
    const list = document.createElement("ol");
    list.append(...log.events.map((e) => {
      const li = document.createElement("li");
      Object.assign(li.dataset, { room: log.room, seq: e.seq, event: e.event });
      const seq = document.createElement("span");
      seq.className = "seq";
      seq.textContent = `#${e.seq} `;
      const name = document.createElement("span");
      name.className = "event";
      name.textContent = e.event;
      li.append(seq, name, ` ${e.preview}`);
      li.title = `${e.at} ${e.preview}`;
      return li;
    }));
    box.append(title, list);
    return box;
  }));
}

showSignedIn(client.signedIn);
onStatus();
document.body.dataset.ready = "true";
