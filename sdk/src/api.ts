import { ApiError, NetworkError, unwrap, type Envelope } from "./errors.js";

export interface RequestOptions {
  method?: string;
  body?: unknown; // JSON-encoded unless it is a string (then sent as is, see contentType)
  contentType?: string;
  query?: Record<string, string | number | undefined>;
  auth?: boolean; // send the bearer token (default true)
}

/** The REST API under /api/v1: envelopes unwrapped, the bearer token attached and renewed. */
export class Api {
  /** Supplies a valid access token; `renew` forces a refresh after a 401 auth_expired. */
  tokenSource?: (renew: boolean) => Promise<string | undefined>;

  constructor(readonly baseUrl: string) {}

  url(path: string, query?: RequestOptions["query"]): string {
    const url = new URL(path.startsWith("/") ? path : `/api/v1/${path}`, this.baseUrl);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url.toString();
  }

  async request<T>(path: string, options: RequestOptions = {}): Promise<T> {
    const wantsAuth = options.auth !== false;
    let token = wantsAuth ? await this.tokenSource?.(false) : undefined;
    try {
      return await this.send<T>(path, options, token);
    } catch (err) {
      // An access token that expired in flight is renewed once, then the call is repeated.
      if (!wantsAuth || !(err instanceof ApiError) || err.code !== "auth_expired") throw err;
      token = await this.tokenSource?.(true);
      return this.send<T>(path, options, token);
    }
  }

  private async send<T>(path: string, options: RequestOptions, token?: string): Promise<T> {
    const headers: Record<string, string> = { Accept: "application/json" };
    if (token) headers.Authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      headers["Content-Type"] = options.contentType ?? "application/json";
      body = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
    }
    let response: Response;
    try {
      response = await fetch(this.url(path, options.query), {
        method: options.method ?? (body === undefined ? "GET" : "POST"), headers, body,
      });
    } catch (err) {
      throw new NetworkError(String(err));
    }
    let parsed: Envelope<T>;
    try {
      parsed = (await response.json()) as Envelope<T>;
    } catch {
      throw new ApiError("bad_response", `HTTP ${response.status} without a JSON envelope`,
        response.status);
    }
    return unwrap(parsed, response.status);
  }
}
