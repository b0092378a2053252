/** Codes that say "not now" rather than "not this": the same request may succeed later. */
const TRANSIENT_CODES = new Set(["internal", "unavailable", "not_ready", "rate_limited", "network"]);

export function isTransient(code: string | undefined): boolean {
  return code !== undefined && TRANSIENT_CODES.has(code);
}

/** The server's error envelope as an exception: `code` is stable, `message` is for people. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 0,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "ApiError";
  }

  /** Worth sending again later: the network, the server or a rate limit, not the request. */
  get transient(): boolean {
    return this.status === 0 || this.status >= 500 || isTransient(this.code);
  }
}

/** No answer at all (offline, connection refused, aborted). */
export class NetworkError extends ApiError {
  constructor(message: string) {
    super("network", message, 0);
    this.name = "NetworkError";
  }
}

export type Envelope<T> =
  | { status: "ok"; data: T }
  | { status: "error"; error: { code: string; message: string; details?: unknown } };

export function unwrap<T>(body: Envelope<T>, status = 200): T {
  if (body && body.status === "ok") return body.data;
  const error = body && body.status === "error" ? body.error : undefined;
  throw new ApiError(error?.code ?? "bad_response", error?.message ?? "unexpected answer", status,
    error?.details);
}
