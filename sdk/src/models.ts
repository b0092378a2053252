import type { Api } from "./api.js";
import { ApiError } from "./errors.js";
import type { ModelUpdate } from "./events.js";
import type { Store } from "./store.js";

const CACHE_NAME = "feltsync-models";
const VERSIONS_KEY = "models";

interface ModelMeta {
  version: string;
  family: string;
  sha256: string;
  size: number;
  url: string;
}

/**
 * Model files in Cache Storage: on `model:update` the signed URL is fetched, the bytes are
 * checked against the announced sha256 before they are kept, and the family's version is
 * remembered so the next connect announces it (and a reload downloads nothing).
 */
export class ModelCache {
  constructor(private api: Api, private store: Store) {}

  /** `{family: version}` of the cached models, sent as `auth.models` on connect. */
  async versions(): Promise<Record<string, string>> {
    return (await this.store.get<Record<string, string>>(VERSIONS_KEY)) ?? {};
  }

  async update(notice: ModelUpdate): Promise<ArrayBuffer> {
    const cached = await this.file(notice.family);
    if (cached && (await this.versions())[notice.family] === notice.version) return cached;
    const meta = await this.api.request<ModelMeta>(`ai/model/${encodeURIComponent(notice.version)}`);
    const response = await fetch(new URL(meta.url, this.api.baseUrl));
    if (!response.ok) throw new ApiError("download_failed", `model download: HTTP ${response.status}`,
      response.status);
    const bytes = await response.arrayBuffer();
    const digest = hex(await crypto.subtle.digest("SHA-256", bytes));
    if (digest !== notice.sha256 || digest !== meta.sha256) {
      throw new ApiError("checksum_mismatch", `model ${notice.version} does not match its sha256`);
    }
    const cache = await caches.open(CACHE_NAME);
    await cache.put(this.key(notice.family), new Response(bytes, {
      headers: { "Content-Type": "application/octet-stream", "X-Model-Version": notice.version },
    }));
    await this.store.set(VERSIONS_KEY, { ...(await this.versions()), [notice.family]: notice.version });
    return bytes;
  }

  /** The cached file of a family, if any. */
  async file(family: string): Promise<ArrayBuffer | undefined> {
    const cache = await caches.open(CACHE_NAME);
    const hit = await cache.match(this.key(family));
    return hit ? hit.arrayBuffer() : undefined;
  }

  private key(family: string): string {
    return new URL(`/__feltsync/models/${encodeURIComponent(family)}`, this.api.baseUrl).toString();
  }
}

function hex(buffer: ArrayBuffer): string {
  return [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
