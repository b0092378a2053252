import type { Api } from "./api.js";
import { ApiError, isTransient } from "./errors.js";
import type { BatchResult } from "./events.js";
import type { QueuedItem, Store } from "./store.js";

/** One flushed item's outcome, as the server answered it. */
export interface QueueResult extends BatchResult {
  op: string;
}

const BATCH_SIZE = 100;
// Kept well under the server's request body cap (1 MiB by default), so learning-buffer lines
// queued in bulk still leave in requests the server takes.
const BATCH_BYTES = 512 * 1024;

/**
 * The offline retry queue (Spec 21 §5.1): writes go to IndexedDB first and leave it only
 * when the server answered them. Flushing sends the oldest items in order through
 * `POST /batch` (histories, settings changes and learning-buffer lines alike); each item
 * keeps the client id it was queued with, so a flush repeated after a lost answer stores
 * nothing twice. An item the server refused for good (invalid, conflict) is dropped and
 * reported; network and server trouble keep it for the next flush.
 */
export class OfflineQueue {
  onResult?: (result: QueueResult) => void;
  onLength?: (length: number) => void;
  private flushing?: Promise<void>;

  constructor(private api: Api, private store: Store) {}

  async add(op: string, data: unknown, id: string = newId()): Promise<string> {
    await this.store.enqueue({ id, op, data, created_at: Date.now() });
    this.onLength?.(await this.length());
    return id;
  }

  length(): Promise<number> {
    return this.store.queueLength();
  }

  /** Send everything queued; one flush at a time, later callers join the running one. */
  flush(): Promise<void> {
    if (!this.flushing) {
      this.flushing = this.flushAll().finally(() => (this.flushing = undefined));
    }
    return this.flushing;
  }

  private async flushAll(): Promise<void> {
    for (;;) {
      const run = withinBytes(await this.store.queued(BATCH_SIZE), BATCH_BYTES);
      if (run.length === 0) return;
      const results = await this.sendBatch(run);
      const done: number[] = [];
      let blocked = false;
      for (const [i, item] of run.entries()) {
        const result = results[i];
        if (result.status === "error" && isTransient(result.code)) {
          blocked = true; // keep it and everything after it, in order
          break;
        }
        done.push(item.key!);
        this.onResult?.({ ...result, op: item.op });
      }
      await this.store.dequeue(done);
      this.onLength?.(await this.length());
      if (blocked) throw new ApiError("unavailable", "the server could not take the queue now", 503);
    }
  }

  private async sendBatch(items: QueuedItem[]): Promise<BatchResult[]> {
    const operations = items.map(({ id, op, data }) => ({ id, op, data }));
    try {
      const answer = await this.api.request<{ results: BatchResult[] }>("batch", {
        body: { operations },
      });
      return answer.results;
    } catch (err) {
      // One item too large for any request would block the queue for good: refuse it alone.
      if (items.length === 1 && err instanceof ApiError && err.code === "payload_too_large") {
        return [{ id: items[0].id, status: "error", code: err.code, message: err.message }];
      }
      throw err;
    }
  }
}

/** The oldest items whose JSON fits in `limit` bytes (always at least one). */
function withinBytes(items: QueuedItem[], limit: number): QueuedItem[] {
  let total = 0;
  const encoder = new TextEncoder();
  for (const [i, { id, op, data }] of items.entries()) {
    total += encoder.encode(JSON.stringify({ id, op, data })).byteLength;
    if (total > limit && i > 0) return items.slice(0, i);
  }
  return items;
}

export function newId(): string {
  return crypto.randomUUID().replaceAll("-", "");
}
