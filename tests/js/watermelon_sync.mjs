// Two devices of one user, WatermelonDB + LokiJS in Node, offline edits, conflicts, deletes,
// a lost push response. Usage: node watermelon_sync.mjs URL TOKEN_A TOKEN_B TOKEN_FRESH
// Prints one JSON line: what each device holds, what each pull brought, and any complaints.
import { Device, captureSyncComplaints } from "./watermelon_client.mjs";

const [url, tokenA, tokenB, tokenFresh] = process.argv.slice(2);
const complaints = captureSyncComplaints();
const result = { steps: {} };
const phone = new Device("phone", url, tokenA);
const tablet = new Device("tablet", url, tokenB);
const json = (value) => JSON.stringify(value);

try {
  // Offline from the start: both devices record hands before they ever synced.
  const h1 = await phone.create("hands", { game_type: "nlhe", record_json: json({ pot: 1 }) });
  const h2 = await phone.create("hands", { game_type: "nlhe", record_json: json({ pot: 2 }) });
  const h3 = await tablet.create("hands", { game_type: "plo", tournament_id: "t1", record_json: json({ pot: 3 }) });
  const t1 = await tablet.create("tournament_results", { result_json: json({ prize: 9 }), rank: 2, chips: 0 });
  result.ids = { h1: h1.id, h2: h2.id, h3: h3.id, t1: t1.id };

  await phone.sync();   // first sync: nothing on the server yet, pushes h1 h2
  await tablet.sync();  // first sync: pulls h1 h2, pushes h3 t1
  await phone.sync();   // pulls h3 t1
  result.steps.first = { phone: phone.pulls.slice(), tablet: tablet.pulls.slice() };

  // Offline edits on both, touching the same record.
  await phone.update("hands", h1.id, { game_type: "razz" });
  await phone.remove("hands", h2.id);
  await tablet.update("hands", h1.id, { record_json: json({ pot: 100 }) });
  await tablet.update("tournament_results", t1.id, { rank: 1 });
  const h4 = await tablet.create("mixed_games", { from_game: "razz", to_game: "stud", record_json: json({ level: 3 }) });
  result.ids.h4 = h4.id;
  await phone.sync();
  await tablet.sync();  // pulls the phone's edit, keeps its own column change, pushes
  await phone.sync();

  // A conflict the server must refuse: the phone pushes between the tablet's pull and push.
  await tablet.update("hands", h3.id, { game_type: "stud" });
  await phone.update("hands", h3.id, { game_type: "badugi" });
  tablet.beforeNextPush = () => phone.sync();
  try {
    await tablet.sync();
    result.conflict = "no error";
  } catch (err) {
    result.conflict = err.status ?? String(err);
  }
  await tablet.sync();  // pulls the phone's change, keeps its own, pushes again
  await phone.sync();

  // A lost push response: the server stored it, the phone did not hear back and retries.
  const h5 = await phone.create("hands", { game_type: "nlhe", record_json: json({ pot: 5 }) });
  result.ids.h5 = h5.id;
  phone.loseNextPushResponse = true;
  try {
    await phone.sync();
    result.lost = "no error";
  } catch (err) {
    result.lost = String(err.message);
  }
  const pullsBeforeRetry = phone.pulls.length;
  await phone.sync();
  result.retry_pull = phone.pulls[pullsBeforeRetry];
  await tablet.sync();
  await phone.sync();
  // Nothing moved since: another round brings nothing to either device.
  await tablet.sync();
  await phone.sync();
  result.quiet = { phone: phone.pulls.at(-1), tablet: tablet.pulls.at(-1) };

  const fresh = new Device("fresh", url, tokenFresh);
  await fresh.sync();
  result.first_sync_of_fresh_device = fresh.pulls[0];
  result.rows = {};
  for (const [name, device] of Object.entries({ phone, tablet, fresh })) {
    result.rows[name] = {};
    for (const table of ["hands", "tournament_results", "mixed_games"]) {
      result.rows[name][table] = await device.rows(table);
    }
  }
  result.push_statuses = { phone: phone.pushStatus, tablet: tablet.pushStatus };
} catch (err) {
  result.error = String(err?.stack ?? err);
}
result.complaints = complaints;
console.log(JSON.stringify(result));
process.exit(0);
