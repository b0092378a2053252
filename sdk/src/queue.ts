import type { Api } from "./api.js";
import { ApiError, isTransient } from "./errors.js";
import type { BatchResult } from "./events.js";
import type { QueuedItem, Store } from "./store.js";

/** One flushed item's outcome, as the server answered it. */
export interface QueueResult extends BatchResult {
  op: string;
}

/** Ops sent straight to their own endpoint instead of `POST /batch`. */
export type DirectSender = (items: QueuedItem[]) => Promise<BatchResult[]>;

const BATCH_SIZE = 100;

/**
 * The offline retry queue (Spec 21 §5.1): writes go to IndexedDB first and leave it only
 * when the server answered them. Flushing sends the oldest items in order through
 * `POST /batch`; each item keeps the client id it was queued with, so a flush repeated after
 * a lost answer stores nothing twice. An item the server refused for good (invalid,
 * conflict) is dropped and reported; network and server trouble keep it for the next flush.
 */
export class OfflineQueue {
  onResult?: (result: QueueResult) => void;
  onLength?: (length: number) => void;
  private flushing?: Promise<void>;
  private direct = new Map<string, DirectSender>();

  constructor(private api: Api, private store: Store) {}

  sendDirectly(op: string, sender: DirectSender): void {
    this.direct.set(op, sender);
  }

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
      const items = await this.store.queued(BATCH_SIZE);
      if (items.length === 0) return;
      // A leading run of items sharing a transport: batch ops together, or one direct op.
      const direct = this.direct.get(items[0].op);
      const run = direct
        ? takeWhile(items, (item) => item.op === items[0].op)
        : takeWhile(items, (item) => !this.direct.has(item.op));
      const results = direct ? await direct(run) : await this.sendBatch(run);
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
    const answer = await this.api.request<{ results: BatchResult[] }>("batch", {
      body: { operations },
    });
    return answer.results;
  }
}

function takeWhile<T>(items: T[], keep: (item: T) => boolean): T[] {
  const end = items.findIndex((item) => !keep(item));
  return end === -1 ? items : items.slice(0, end);
}

export function newId(): string {
  return crypto.randomUUID().replaceAll("-", "");
}
