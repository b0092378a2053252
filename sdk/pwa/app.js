// The feltsync reference PWA: everything goes through the SDK (./feltsync.js).
import { FeltsyncClient } from "./feltsync.js";

const $ = (id) => document.getElementById(id);
const MODEL_FAMILY = "pro";
const client = await FeltsyncClient.open({
  deviceName: navigator.userAgent.slice(0, 60), modelFamilies: [MODEL_FAMILY],
});
window.feltsync = client; // for the console (and the browser tests)

let handsRecorded = 0;
let handsSaved = 0;
let tournamentId = null;
let clock = null; // the server clock as last read, with the local time it was read

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("sw.js").catch((err) => console.warn("service worker", err));
}

// --- sign in / out ------------------------------------------------------------------------

function showSignedIn(signedIn) {
  $("login-view").hidden = signedIn;
  $("app-view").hidden = !signedIn;
  if (signedIn) {
    $("user-id").textContent = client.userId;
    $("device-id").textContent = client.deviceId;
  }
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const action = event.submitter?.value ?? "login";
  $("login-error").textContent = "";
  try {
    if (action === "signup") {
      await client.signup(form.get("login"), form.get("password"), form.get("nickname") || form.get("login"));
    } else {
      await client.login(form.get("login"), form.get("password"));
    }
    showSignedIn(true);
  } catch (err) {
    $("login-error").textContent = `${err.code ?? "error"}: ${err.message}`;
  }
});

$("logout-button").addEventListener("click", () => client.logout());
client.on("signed-out", () => showSignedIn(false));

// --- connection and the offline queue -------------------------------------------------------

async function renderStatus() {
  const status = client.status;
  const el = $("status");
  el.textContent = !status.online ? "offline" : status.connected ? `live (${status.transport})` : "connecting…";
  el.dataset.connected = String(status.connected);
  el.dataset.transport = status.transport ?? "";
  const waiting = await client.queue.length();
  $("queue-length").textContent = waiting;
  $("offline-banner").hidden = status.online && waiting === 0;
}
client.on("status", renderStatus);
client.on("queue:length", renderStatus);
window.addEventListener("online", renderStatus);
window.addEventListener("offline", renderStatus);

// --- profile and settings -------------------------------------------------------------------

client.on("profile", (profile) => { $("nickname").textContent = profile.nickname; });
client.on("settings", renderSettings);
function renderSettings(settings) {
  $("theme-select").value = settings.theme;
  $("se-on").checked = settings.se_on;
  $("bgm-on").checked = settings.bgm_on;
  const el = $("settings");
  el.dataset.version = settings.version;
  el.dataset.theme = settings.theme;
  $("settings-text").textContent =
    `theme ${settings.theme}, sound ${settings.se_on ? "on" : "off"}, music ${settings.bgm_on ? "on" : "off"} (v${settings.version})`;
}
$("settings-form").addEventListener("change", (event) => {
  const input = event.target;
  const change = { [input.name]: input.type === "checkbox" ? input.checked : input.value };
  client.updateSettings(change).catch((err) => console.warn("settings", err));
});

// --- hands ------------------------------------------------------------------------------------

$("record-hand").addEventListener("click", async () => {
  const hand_id = `h${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  await client.recordHand({ hand_id, game_type: "nlh", record_json: { board: ["As", "Kd", "7c"], pot: 120 } });
  $("hands-recorded").textContent = ++handsRecorded;
});
client.on("queue:result", (result) => {
  if (result.op === "hand" && result.status === "ok") $("hands-saved").textContent = ++handsSaved;
});

// --- tournament: clock, state, chat -----------------------------------------------------------

$("tournament-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  tournamentId = $("tournament-id").value.trim();
  await loadTournament();
  await client.joinTournament(tournamentId);
  $("tournament").hidden = false;
});

async function loadTournament() {
  const resume = await client.api.request(`tournament/resume/${encodeURIComponent(tournamentId)}`);
  showClock(resume.clock);
  if (resume.state) showState(resume.state);
}

function showClock(view) {
  clock = { ...view, readAt: Date.now() };
  renderClock();
}

function renderClock() {
  if (!clock) return;
  const el = $("clock");
  el.dataset.level = clock.level;
  el.dataset.paused = String(clock.paused);
  $("clock-level").textContent = clock.on_break ? "break" : clock.level;
  $("clock-blinds").textContent = `${clock.small_blind}/${clock.big_blind}` + (clock.ante ? ` ante ${clock.ante}` : "") + ` ${clock.game}`;
  let left = clock.remaining_s;
  if (left != null && clock.started && !clock.paused) left = Math.max(0, left - (Date.now() - clock.readAt) / 1000);
  $("clock-remaining").textContent = left == null ? "not started" : `${Math.floor(left / 60)}:${String(Math.floor(left % 60)).padStart(2, "0")} left`;
  $("clock-paused").textContent = clock.paused ? "(paused)" : "";
}
setInterval(renderClock, 1000);

function showState(state) {
  const players = state.players?.length ?? 0;
  $("tournament-state").textContent = `v${state.version ?? "?"}, level ${state.level}, ${players} players, ${state.table_count} tables`;
}

$("chat-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = $("chat-input").value;
  $("chat-input").value = "";
  try {
    await client.sendChat(`tournament_${tournamentId}`, body);
  } catch (err) {
    console.warn("chat", err);
  }
});
client.on("chat", (message) => {
  const li = document.createElement("li");
  li.dataset.seq = message.seq;
  li.textContent = `${message.user_id}: ${message.body}`;
  $("chat-log").append(li);
});

// --- the opponent model, kept in Cache Storage -------------------------------------------------

function showModel(version, size, where) {
  $("model").dataset.version = version;
  $("model-text").textContent = `${version}, ${size} bytes (${where})`;
}
client.on("model", (model) => showModel(model.version, model.size, "downloaded"));
client.on("error", (err) => {
  if (err?.code === "checksum_mismatch" || err?.code === "download_failed") {
    $("model-error").textContent = `${err.code}: ${err.message}`;
  }
});
const cachedVersion = (await client.models.versions())[MODEL_FAMILY];
const cachedFile = cachedVersion && await client.models.file(MODEL_FAMILY);
if (cachedFile) showModel(cachedVersion, cachedFile.byteLength, "cached");

// --- every room event, in order ----------------------------------------------------------------

client.on("event", (event) => {
  const li = document.createElement("li");
  li.dataset.room = event.room;
  li.dataset.seq = event.seq;
  li.dataset.event = event.event;
  li.textContent = `${event.room} #${event.seq} ${event.event}`;
  $("event-log").append(li);
  if (tournamentId && event.room === `tournament_${tournamentId}`) {
    if (event.event.startsWith("clock:")) showClock(event.data);
    else if (event.event === "tournament:update") showState(event.data.state);
    else if (["level:up", "break:start", "break:end", "game:switch"].includes(event.event)) {
      loadTournament().catch(() => undefined);
    }
  }
});

showSignedIn(client.signedIn);
if (client.profile) { // the last profile seen, until the server answers (or while offline)
  $("nickname").textContent = client.profile.nickname;
  renderSettings(client.profile.settings);
}
renderStatus();
document.body.dataset.ready = "true";
