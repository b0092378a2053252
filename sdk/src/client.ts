import { io, type Socket } from "socket.io-client";

import { Api } from "./api.js";
import { Emitter } from "./emitter.js";
import { ApiError, NetworkError, type Envelope, unwrap } from "./errors.js";
import type {
  ChatMessage, JoinAnswer, ModelUpdate, Profile, ReplayAnswer, ResyncRequired,
  RoomEvent, SessionReady, Settings, SettingsUpdate,
} from "./events.js";
import type {
  ClientEventPayloads, HandRecord, MixedRecord, RlLine, SettingsBody, TournamentRecord,
} from "./generated/protocol.js";
import { ModelCache } from "./models.js";
import { newId, OfflineQueue, type QueueResult } from "./queue.js";
import { RoomStreams } from "./rooms.js";
import { Session, type Tokens } from "./session.js";
import { Store } from "./store.js";

export type Transport = "polling" | "websocket";
export type SettingsChange = Omit<SettingsBody, "version">;

export interface ClientOptions {
  /** Where the server is; the page's origin by default. */
  baseUrl?: string;
  /** IndexedDB database name (one per app). */
  storeName?: string;
  deviceName?: string;
  platform?: "pwa" | "ios" | "android" | "pc";
  /** Socket.IO transports in the order tried; polling first survives a blocked websocket. */
  transports?: Transport[];
  /** Model families this app runs (`["pro"]`): kept current in Cache Storage. */
  modelFamilies?: string[];
}

export interface ConnectionStatus {
  online: boolean; // the browser's own view (navigator.onLine)
  connected: boolean; // the socket is up
  transport?: Transport;
}

export interface ClientEvents {
  /** Every room event, once each and in seq order per room. */
  event: RoomEvent;
  profile: Profile;
  settings: Settings;
  chat: ChatMessage;
  resync: ResyncRequired;
  status: ConnectionStatus;
  "queue:length": number;
  "queue:result": QueueResult;
  model: { family: string; version: string; size: number };
  "signed-out": string;
  error: unknown;
}

const FLUSH_RETRY_MS = 3000;
const PROFILE_KEY = "profile";

/** The feltsync browser client: one per page. Create it with `FeltsyncClient.open()`. */
export class FeltsyncClient extends Emitter<ClientEvents> {
  readonly api: Api;
  readonly session: Session;
  readonly queue: OfflineQueue;
  readonly rooms: RoomStreams;
  readonly models: ModelCache;
  socket?: Socket;
  profile?: Profile;
  private followed = new Map<string, () => Promise<JoinAnswer>>();
  private handshakeToken?: string; // the access token the last connect attempt carried
  private flushTimer?: ReturnType<typeof setTimeout>;
  private removeWindowListeners?: () => void;

  private constructor(
    readonly options: Required<ClientOptions>,
    private store: Store,
    readonly deviceId: string,
  ) {
    super();
    this.api = new Api(options.baseUrl);
    this.session = new Session(this.api, store);
    this.queue = new OfflineQueue(this.api, store);
    this.models = new ModelCache(this.api, store);
    this.rooms = new RoomStreams(store, {
      deliver: (event) => this.deliver(event),
      resync: (info) => this.emit("resync", info),
      replay: (room, afterSeq) => this.replay(room, afterSeq),
    });
    this.queue.onLength = (n) => this.emit("queue:length", n);
    this.queue.onResult = (r) => {
      if (r.op === "settings" && r.status === "ok") this.settingsArrived(r.data as Settings);
      this.emit("queue:result", r);
    };
    this.session.onRenewed = (tokens) => this.renewSocketToken(tokens);
    this.session.onSignedOut = (reason) => this.signedOut(reason);
  }

  /** Open the local store, restore a saved session and, when there is one, go live. */
  static async open(options: ClientOptions = {}): Promise<FeltsyncClient> {
    const full: Required<ClientOptions> = {
      baseUrl: options.baseUrl ?? globalThis.location.origin,
      storeName: options.storeName ?? "feltsync",
      deviceName: options.deviceName ?? "browser",
      platform: options.platform ?? "pwa",
      transports: options.transports ?? ["polling", "websocket"],
      modelFamilies: options.modelFamilies ?? [],
    };
    const store = await Store.open(full.storeName);
    let deviceId = await store.get<string>("device_id");
    if (!deviceId) {
      deviceId = `web-${newId().slice(0, 20)}`;
      await store.set("device_id", deviceId);
    }
    const client = new FeltsyncClient(full, store, deviceId);
    await client.rooms.load();
    client.profile = await store.get<Profile>(PROFILE_KEY); // shown offline until reloaded
    client.watchNetwork();
    if (await client.session.restore()) client.start();
    return client;
  }

  get userId(): number | undefined {
    return this.session.tokens?.user_id;
  }

  get signedIn(): boolean {
    return this.session.tokens !== undefined;
  }

  get status(): ConnectionStatus {
    const engine = this.socket?.io.engine;
    return {
      online: navigator.onLine,
      connected: this.socket?.connected ?? false,
      transport: engine?.transport?.name as Transport | undefined,
    };
  }

  // --- accounts ------------------------------------------------------------------------

  async signup(login: string, password: string, nickname: string): Promise<Tokens> {
    const tokens = await this.session.signup({ login, password, nickname, ...this.device() });
    this.start();
    return tokens;
  }

  async login(login: string, password: string): Promise<Tokens> {
    const tokens = await this.session.login({ login, password, ...this.device() });
    this.start();
    return tokens;
  }

  async logout(): Promise<void> {
    await this.session.logout();
  }

  private device() {
    return { device_id: this.deviceId, device_name: this.options.deviceName,
      platform: this.options.platform };
  }

  // --- profile and settings --------------------------------------------------------------

  async loadProfile(): Promise<Profile> {
    const profile = await this.api.request<Profile>(`user/${this.requireUser()}`);
    this.setProfile(profile);
    return profile;
  }

  /**
   * Change settings on every device. Online it is sent at once (a stale version is reloaded
   * and the change applied on top); offline it is queued and shown locally right away.
   */
  async updateSettings(change: SettingsChange): Promise<void> {
    if (this.profile) this.showSettings({ ...this.profile.settings, ...withoutEmpty(change) });
    if (navigator.onLine) {
      try {
        await this.applySettings(change);
        return;
      } catch (err) {
        if (!(err instanceof NetworkError)) throw err;
      }
    }
    await this.queue.add("settings", change);
  }

  private async applySettings(change: SettingsChange): Promise<Profile> {
    for (let attempt = 0; ; attempt++) {
      const version = this.profile?.settings.version ?? (await this.loadProfile()).settings.version;
      try {
        const profile = await this.api.request<Profile>(`user/${this.requireUser()}`, {
          method: "PATCH", body: { settings: { ...change, version } },
        });
        this.setProfile(profile);
        return profile;
      } catch (err) {
        // Another device changed the settings first: take its version, apply ours on top.
        if (!(err instanceof ApiError) || err.code !== "conflict" || attempt >= 3) throw err;
        await this.loadProfile();
      }
    }
  }

  private setProfile(profile: Profile): void {
    this.profile = profile;
    void this.store.set(PROFILE_KEY, profile);
    this.emit("profile", profile);
    this.emit("settings", profile.settings);
  }

  /** Settings the server holds now (an event or a queued change's answer), if newer. */
  private settingsArrived(settings: Settings): void {
    if (!this.profile || settings.version > this.profile.settings.version) {
      this.showSettings(settings);
    }
  }

  private showSettings(settings: Settings): void {
    if (this.profile) {
      this.profile = { ...this.profile, settings };
      void this.store.set(PROFILE_KEY, this.profile);
    }
    this.emit("settings", settings);
  }

  // --- histories and the offline queue -----------------------------------------------------

  /** Queue a hand record; it reaches the server now, or on the next flush when offline. */
  recordHand(record: HandRecord): Promise<string> {
    return this.enqueue("hand", record, `hand-${record.hand_id}`);
  }

  recordTournament(record: TournamentRecord): Promise<string> {
    return this.enqueue("tournament", record, `tournament-${record.tournament_id}`);
  }

  recordMixed(record: MixedRecord): Promise<string> {
    return this.enqueue("mixed", record, `mixed-${record.record_id}`);
  }

  /** Learning-buffer lines, sent with the queue (stored once, all of them or none). */
  recordRlLines(lines: RlLine[]): Promise<string> {
    return this.enqueue("rl_lines", lines);
  }

  private async enqueue(op: string, data: unknown, id?: string): Promise<string> {
    const queued = await this.queue.add(op, data, id);
    this.flushSoon(0);
    return queued;
  }

  /** Send the queue now (resolves when it is empty or the network stopped it). */
  async flush(): Promise<void> {
    if (!this.signedIn || !navigator.onLine) return;
    try {
      await this.queue.flush();
    } catch (err) {
      this.flushSoon(FLUSH_RETRY_MS);
      throw err;
    }
  }

  private flushSoon(delay: number): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = setTimeout(() => this.flush().catch(() => undefined), delay);
  }

  // --- rooms -------------------------------------------------------------------------------

  /** Follow a tournament's room: missed events first, then live ones, across reconnects. */
  joinTournament(tournamentId: string): Promise<JoinAnswer> {
    const room = `tournament_${tournamentId}`;
    return this.follow(room, () => this.call("tournament:join", {
      tournament_id: tournamentId, last_seq: this.rooms.lastSeq(room) ?? null,
    }) as Promise<JoinAnswer>);
  }

  /** Follow any room the server lets this user join (`table_12`, …). */
  joinRoom(room: string): Promise<JoinAnswer> {
    return this.follow(room, () => this.call("room:join", {
      room, last_seq: this.rooms.lastSeq(room) ?? null,
    }) as Promise<JoinAnswer>);
  }

  async leaveRoom(room: string): Promise<void> {
    this.followed.delete(room);
    if (this.socket?.connected) await this.call("room:leave", { room });
  }

  private async follow(room: string, join: () => Promise<JoinAnswer>): Promise<JoinAnswer> {
    this.followed.set(room, join); // rejoined on every reconnect
    try {
      return await this.joinNow(room, join);
    } catch (err) {
      // Refused (forbidden, no such room): stop following; offline: joined on reconnect.
      if (err instanceof ApiError && !err.transient) this.followed.delete(room);
      throw err;
    }
  }

  private async joinNow(room: string, join: () => Promise<JoinAnswer>): Promise<JoinAnswer> {
    this.rooms.joining(room);
    try {
      const answer = await join();
      this.rooms.joined(room, answer.seq, answer.resync_required);
      return answer;
    } catch (err) {
      this.rooms.notJoined(room);
      throw err;
    }
  }

  private async replay(room: string, afterSeq: number): Promise<ReplayAnswer> {
    if (this.socket?.connected) {
      return this.call("room:replay", { room, after_seq: afterSeq, limit: 500 }) as
        Promise<ReplayAnswer>;
    }
    return this.api.request<ReplayAnswer>(`rooms/${room}/events`,
      { query: { after_seq: afterSeq, limit: 500 } });
  }

  // --- chat --------------------------------------------------------------------------------

  /** Send a chat message; a resend after a lost ack carries the same id and is stored once. */
  async sendChat(channel: string, body: string, clientMsgId: string = newId()) {
    return this.call("chat:send", { channel, client_msg_id: clientMsgId, body }) as Promise<{
      ack: "saved"; duplicate: boolean; message: ChatMessage;
    }>;
  }

  // --- the socket ----------------------------------------------------------------------------

  /** A client→server event with its typed payload; resolves with the ack's data. */
  async call<K extends keyof ClientEventPayloads>(event: K, payload: ClientEventPayloads[K]):
    Promise<unknown> {
    const socket = this.socket;
    if (!socket?.connected) throw new NetworkError(`${event}: not connected`);
    let answer: Envelope<unknown> = await socket.timeout(15000).emitWithAck(event, payload);
    if (answer.status === "error" && answer.error.code === "auth_expired") {
      await this.session.refresh(); // also renews the socket's session (auth:refresh)
      answer = await socket.timeout(15000).emitWithAck(event, payload);
    }
    return unwrap(answer);
  }

  /** Go live: connect the socket (when the browser is online), load the profile, flush. */
  start(): void {
    if (!this.socket) this.socket = this.makeSocket();
    if (navigator.onLine && !this.socket.connected) this.socket.connect();
    this.loadProfile().catch((err) => this.emit("error", err));
    this.flushSoon(0);
  }

  private makeSocket(): Socket {
    const socket = io(this.options.baseUrl, {
      autoConnect: false,
      transports: this.options.transports,
      reconnectionDelayMax: 5000,
      // Called before every (re)connect, so the handshake always carries the newest token
      // and the resume point of the user's room.
      auth: (cb) => {
        this.handshakeToken = this.session.tokens?.access_token;
        void this.declaredModels().then((models) => cb({
          token: this.handshakeToken, device_id: this.deviceId,
          last_seq: this.rooms.lastSeq(this.userRoom()) ?? undefined, models,
        }));
      },
    });
    socket.on("connect", () => this.connected());
    socket.on("disconnect", () => this.emit("status", this.status));
    socket.io.engine?.on("upgrade", () => this.emit("status", this.status));
    socket.on("connect_error", (err: Error & { data?: unknown }) => this.connectRefused(err));
    socket.on("session:ready", (ready: SessionReady) => {
      if (ready.user_id !== this.userId) void this.session.forget("unauthorized");
    });
    socket.onAny((event: string, payload: unknown) => this.incoming(event, payload));
    return socket;
  }

  private async connected(): Promise<void> {
    this.emit("status", this.status);
    this.socket?.io.engine.once("upgrade", () => this.emit("status", this.status));
    try {
      // Rooms the server put this socket in at connect: on a first connect, learn where
      // each one is (a join of a room already joined just answers its seq).
      const joinedAtConnect = [this.userRoom(),
        ...this.options.modelFamilies.map((family) => `models_${family}`)];
      for (const room of joinedAtConnect) {
        if (this.rooms.lastSeq(room) !== undefined) continue;
        await this.joinNow(room, () => this.call("room:join", { room }) as Promise<JoinAnswer>);
      }
      for (const [room, join] of this.followed) await this.joinNow(room, join);
    } catch (err) {
      this.emit("error", err);
    }
    this.loadProfile().catch((err) => this.emit("error", err));
    this.flushSoon(0);
  }

  private async connectRefused(err: Error & { data?: unknown }): Promise<void> {
    this.emit("status", this.status);
    if (err.data === undefined) return; // a transport failure: socket.io retries by itself
    // The server refused the handshake and will not be retried automatically.
    if (err.message === "auth_expired") {
      try {
        // One refresh: skipped when a REST call already renewed the token meanwhile.
        if (this.session.tokens?.access_token === this.handshakeToken) await this.session.refresh();
        this.socket?.connect();
      } catch (refreshErr) {
        this.emit("error", refreshErr);
      }
    } else {
      await this.session.forget(err.message);
    }
  }

  private incoming(event: string, payload: unknown): void {
    if (event === "resync_required") {
      this.rooms.resyncRequired(payload as ResyncRequired);
    } else if (event === "model:update" && isRoomEvent(payload) &&
               (payload.data as ModelUpdate).reason === "connect") {
      // Not a log entry: it restates the room's head seq to say "you hold an old version".
      this.modelNotice(payload.data as ModelUpdate);
    } else if (isRoomEvent(payload)) {
      this.rooms.receive({ event, room: payload.room, seq: payload.seq, data: payload.data });
    } else if (event === "model:update") {
      this.modelNotice(payload as ModelUpdate);
    }
  }

  private deliver(event: RoomEvent): void {
    this.emit("event", event);
    switch (event.event) {
      case "settings:update": {
        const { user_id: _u, device_id: _d, ...settings } = event.data as SettingsUpdate;
        this.settingsArrived(settings);
        break;
      }
      case "profile:update":
        if (this.profile) this.setProfile({ ...this.profile, ...(event.data as object) });
        break;
      case "chat:message":
        this.emit("chat", event.data as ChatMessage);
        break;
      case "model:update":
        this.modelNotice(event.data as ModelUpdate);
        break;
      case "session:revoked":
        if ((event.data as { device_id?: string }).device_id === this.deviceId) {
          void this.session.forget("session_revoked");
        }
        break;
    }
  }

  /** `{family: version}` for the handshake: the cached version, or "" for none yet. */
  private async declaredModels(): Promise<Record<string, string>> {
    const cached = await this.models.versions();
    return Object.fromEntries(this.options.modelFamilies.map((f) => [f, cached[f] ?? ""]));
  }

  private modelNotice(notice: ModelUpdate): void {
    if (!this.options.modelFamilies.includes(notice.family)) return;
    this.models.update(notice)
      .then((bytes) => this.emit("model", { family: notice.family, version: notice.version,
        size: bytes.byteLength }))
      .catch((err) => this.emit("error", err));
  }

  private renewSocketToken(tokens: Tokens): void {
    if (this.socket?.connected) {
      this.socket.timeout(15000).emitWithAck("auth:refresh", { token: tokens.access_token })
        .catch((err: unknown) => this.emit("error", err));
    }
  }

  private signedOut(reason: string): void {
    this.socket?.disconnect();
    this.socket = undefined;
    this.profile = undefined;
    void this.store.delete(PROFILE_KEY);
    this.emit("signed-out", reason);
  }

  private watchNetwork(): void {
    // The browser knows first: stop the socket (writes queue up) and resume when it is back.
    const offline = () => {
      this.socket?.disconnect();
      this.emit("status", this.status);
    };
    const online = () => {
      if (this.signedIn) this.start();
      this.emit("status", this.status);
    };
    globalThis.addEventListener("offline", offline);
    globalThis.addEventListener("online", online);
    this.removeWindowListeners = () => {
      globalThis.removeEventListener("offline", offline);
      globalThis.removeEventListener("online", online);
    };
  }

  /** Stop everything this client started (the stored queue and seqs stay). */
  close(): void {
    this.removeWindowListeners?.();
    clearTimeout(this.flushTimer);
    this.session.stop();
    this.socket?.disconnect();
    this.store.close();
  }

  private userRoom(): string {
    return `user_${this.requireUser()}`;
  }

  private requireUser(): number {
    const id = this.userId;
    if (id === undefined) throw new ApiError("unauthorized", "not signed in", 401);
    return id;
  }
}

function isRoomEvent(payload: unknown): payload is { room: string; seq: number; data: unknown } {
  return typeof payload === "object" && payload !== null && "room" in payload &&
    "seq" in payload && "data" in payload && typeof (payload as { seq: unknown }).seq === "number";
}

/** The fields a change sets (null and undefined leave a setting as it is). */
function withoutEmpty(change: SettingsChange): Partial<Settings> {
  return Object.fromEntries(Object.entries(change).filter(([, v]) => v !== undefined && v !== null));
}
