// A WatermelonDB 0.28 client in Node (LokiJS adapter, in memory) synced against feltsync.
// The sync routes answer in the usual envelope; this adapter unwraps `data` for WatermelonDB.
import { Database, Model, appSchema, tableSchema } from "@nozbe/watermelondb";
import LokiJSAdapterModule from "@nozbe/watermelondb/adapters/lokijs/index.js";
import { schemaMigrations } from "@nozbe/watermelondb/Schema/migrations/index.js";
import { synchronize } from "@nozbe/watermelondb/sync/index.js";

const LokiJSAdapter = LokiJSAdapterModule.default;

export const schema = appSchema({
  version: 1,
  tables: [
    tableSchema({ name: "hands", columns: [
      { name: "game_type", type: "string" },
      { name: "tournament_id", type: "string", isOptional: true },
      { name: "record_json", type: "string" },
    ] }),
    tableSchema({ name: "tournament_results", columns: [
      { name: "result_json", type: "string" },
      { name: "rank", type: "number", isOptional: true },
      { name: "chips", type: "number", isOptional: true },
    ] }),
    tableSchema({ name: "mixed_games", columns: [
      { name: "tournament_id", type: "string", isOptional: true },
      { name: "from_game", type: "string", isOptional: true },
      { name: "to_game", type: "string" },
      { name: "record_json", type: "string" },
    ] }),
    // One record per user, its id the user id; `version` is the server's, read-only.
    tableSchema({ name: "settings", columns: [
      { name: "se_on", type: "boolean" },
      { name: "bgm_on", type: "boolean" },
      { name: "theme", type: "string" },
      { name: "card_skin", type: "string" },
      { name: "version", type: "number" },
    ] }),
    // The user's profile, the same way: one record, id the user id, `version` read-only.
    tableSchema({ name: "profile", columns: [
      { name: "nickname", type: "string" },
      { name: "avatar", type: "string", isOptional: true },
      { name: "country", type: "string", isOptional: true },
      { name: "version", type: "number" },
    ] }),
  ],
});

class Hand extends Model { static table = "hands"; }
class TournamentResult extends Model { static table = "tournament_results"; }
class MixedGame extends Model { static table = "mixed_games"; }
class Settings extends Model { static table = "settings"; }
class Profile extends Model { static table = "profile"; }

export class Device {
  constructor(name, baseUrl, token) {
    this.name = name;
    this.baseUrl = baseUrl;
    this.headers = { Authorization: `Bearer ${token}`, "Content-Type": "application/json" };
    this.pulls = [];      // what each pull brought: {table: {created, updated, deleted}} as ids
    this.pushStatus = []; // HTTP status of each push
    this.loseNextPushResponse = false;
    this.beforeNextPush = null;
    const adapter = new LokiJSAdapter({
      schema, migrations: schemaMigrations({ migrations: [] }), dbName: `device-${name}`, useWebWorker: false, useIncrementalIndexedDB: false,
      extraLokiOptions: { autosave: false },
    });
    this.db = new Database({ adapter, modelClasses: [Hand, TournamentResult, MixedGame, Settings, Profile] });
  }

  async create(table, values) {
    return this.db.write(() => this.db.get(table).create((record) => {
      for (const [key, value] of Object.entries(values)) record._setRaw(key, value);
    }));
  }

  async update(table, id, values) {
    const record = await this.db.get(table).find(id);
    await this.db.write(() => record.update(() => {
      for (const [key, value] of Object.entries(values)) record._setRaw(key, value);
    }));
  }

  async remove(table, id) {
    const record = await this.db.get(table).find(id);
    await this.db.write(() => record.markAsDeleted());
  }

  async rows(table) {
    const records = await this.db.get(table).query().fetch();
    const columns = schema.tables[table].columnArray.map((c) => c.name);
    return records
      .map((r) => Object.fromEntries([["id", r.id], ...columns.map((c) => [c, r._raw[c]])]))
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  async sync() {
    await synchronize({
      database: this.db,
      migrationsEnabledAtVersion: 1,
      pullChanges: async ({ lastPulledAt, schemaVersion, migration }) => {
        const query = new URLSearchParams({
          last_pulled_at: String(lastPulledAt ?? "null"),
          schema_version: String(schemaVersion),
          migration: JSON.stringify(migration ?? null),
        });
        const body = await this.call("GET", `/api/v1/sync/pull?${query}`);
        this.pulls.push(Object.fromEntries(Object.entries(body.data.changes).map(([t, c]) => [t, {
          created: c.created.map((r) => r.id), updated: c.updated.map((r) => r.id), deleted: c.deleted,
        }])));
        return body.data;
      },
      pushChanges: async ({ changes, lastPulledAt }) => {
        if (this.beforeNextPush) {
          const hook = this.beforeNextPush;
          this.beforeNextPush = null;
          await hook();
        }
        await this.call("POST", `/api/v1/sync/push?last_pulled_at=${lastPulledAt}`, changes);
        if (this.loseNextPushResponse) {
          this.loseNextPushResponse = false;
          throw new Error("push response lost");
        }
      },
    });
  }

  async call(method, path, body) {
    const res = await fetch(this.baseUrl + path, {
      method, headers: this.headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
    const envelope = await res.json();
    if (method === "POST") this.pushStatus.push(res.status);
    if (envelope.status !== "ok") {
      const err = new Error(`${res.status} ${envelope.error.code}: ${envelope.error.message}`);
      err.status = res.status;
      throw err;
    }
    return envelope;
  }
}

// WatermelonDB reports sync anomalies (an echoed record, an update of a missing one) through
// console.error/console.warn with a "[Sync]" prefix; collect them so the test can require none.
export function captureSyncComplaints() {
  const complaints = [];
  for (const level of ["error", "warn"]) {
    const original = console[level];
    console[level] = (...args) => {
      const text = args.map(String).join(" ");
      if (text.includes("[Sync]")) complaints.push(text);
      original.apply(console, args);
    };
  }
  return complaints;
}
