import type { Api } from "./api.js";
import { ApiError } from "./errors.js";
import type { TokenAnswer } from "./events.js";
import type { LoginBody, SignupBody } from "./generated/protocol.js";
import type { Store } from "./store.js";

export interface Tokens {
  access_token: string;
  refresh_token: string;
  user_id: number;
  device_id: string;
  expires_at: number; // seconds since the epoch
}

const SESSION_KEY = "session";
// Renew this long before the access token expires (or at 80 % of a shorter lifetime).
const RENEW_AHEAD_S = 60;

/**
 * The signed-in device: tokens kept in IndexedDB, the access token renewed before it
 * expires (one refresh at a time), and `onRenewed` told so the live socket can follow.
 */
export class Session {
  tokens?: Tokens;
  onRenewed?: (tokens: Tokens) => void;
  onSignedOut?: (reason: string) => void;
  private refreshing?: Promise<Tokens>;
  private timer?: ReturnType<typeof setTimeout>;

  constructor(private api: Api, private store: Store) {
    api.tokenSource = (renew) => this.accessToken(renew);
  }

  async restore(): Promise<Tokens | undefined> {
    this.tokens = await this.store.get<Tokens>(SESSION_KEY);
    if (this.tokens) this.schedule();
    return this.tokens;
  }

  async signup(body: SignupBody): Promise<Tokens> {
    return this.adopt(await this.api.request<TokenAnswer>("auth/signup", { body, auth: false }));
  }

  async login(body: LoginBody): Promise<Tokens> {
    return this.adopt(await this.api.request<TokenAnswer>("auth/login", { body, auth: false }));
  }

  async logout(): Promise<void> {
    try {
      if (this.tokens) await this.api.request("auth/logout", { method: "POST" });
    } finally {
      await this.forget("logout");
    }
  }

  /** A valid access token: renewed first when it is about to expire or `renew` is set. */
  async accessToken(renew = false): Promise<string | undefined> {
    if (!this.tokens) return undefined;
    if (renew || this.tokens.expires_at - Date.now() / 1000 < 5) {
      return (await this.refresh()).access_token;
    }
    return this.tokens.access_token;
  }

  /** Rotate the refresh token; concurrent callers share one request. */
  refresh(): Promise<Tokens> {
    if (!this.refreshing) {
      this.refreshing = this.doRefresh().finally(() => (this.refreshing = undefined));
    }
    return this.refreshing;
  }

  private async doRefresh(): Promise<Tokens> {
    const current = this.tokens;
    if (!current) throw new ApiError("unauthorized", "not signed in", 401);
    try {
      const answer = await this.api.request<TokenAnswer>("auth/refresh", {
        body: { refresh_token: current.refresh_token }, auth: false,
      });
      return await this.adopt(answer);
    } catch (err) {
      // The server ended this session (revoked, reused, expired): only a new login helps.
      if (err instanceof ApiError && !err.transient) await this.forget(err.code);
      throw err;
    }
  }

  private async adopt(answer: TokenAnswer): Promise<Tokens> {
    this.tokens = {
      access_token: answer.access_token, refresh_token: answer.refresh_token,
      user_id: answer.user_id, device_id: answer.device_id,
      expires_at: Date.now() / 1000 + answer.expires_in,
    };
    await this.store.set(SESSION_KEY, this.tokens);
    this.schedule();
    this.onRenewed?.(this.tokens);
    return this.tokens;
  }

  async forget(reason: string): Promise<void> {
    clearTimeout(this.timer);
    const had = this.tokens !== undefined;
    this.tokens = undefined;
    await this.store.delete(SESSION_KEY);
    if (had) this.onSignedOut?.(reason);
  }

  private schedule(): void {
    clearTimeout(this.timer);
    if (!this.tokens) return;
    const left = this.tokens.expires_at - Date.now() / 1000;
    const ahead = Math.min(RENEW_AHEAD_S, left * 0.2);
    const delay = Math.max(0, (left - ahead) * 1000);
    this.timer = setTimeout(() => {
      // Offline or the server down: try again shortly; a refused refresh signs out.
      this.refresh().catch(() => setTimeout(() => this.schedule(), 5000));
    }, delay);
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}
