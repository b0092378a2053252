import { openDB, type DBSchema, type IDBPDatabase } from "idb";

export interface QueuedItem {
  key?: number; // insertion order
  id: string; // the client id the server deduplicates by
  op: string;
  data: unknown;
  created_at: number;
}

interface Schema extends DBSchema {
  kv: { key: string; value: unknown };
  queue: { key: number; value: QueuedItem };
}

/** Durable client state in IndexedDB: a key/value store and the ordered offline queue. */
export class Store {
  private constructor(private db: IDBPDatabase<Schema>) {}

  static async open(name: string): Promise<Store> {
    const db = await openDB<Schema>(name, 1, {
      upgrade(db) {
        db.createObjectStore("kv");
        db.createObjectStore("queue", { keyPath: "key", autoIncrement: true });
      },
    });
    return new Store(db);
  }

  async get<T>(key: string): Promise<T | undefined> {
    return (await this.db.get("kv", key)) as T | undefined;
  }

  async set(key: string, value: unknown): Promise<void> {
    await this.db.put("kv", value, key);
  }

  async delete(key: string): Promise<void> {
    await this.db.delete("kv", key);
  }

  async entries(prefix: string): Promise<Array<[string, unknown]>> {
    const range = IDBKeyRange.bound(prefix, prefix + "\uffff");
    const tx = this.db.transaction("kv");
    const [keys, values] = await Promise.all([tx.store.getAllKeys(range), tx.store.getAll(range)]);
    await tx.done;
    return keys.map((key, i) => [key, values[i]]);
  }

  async enqueue(item: QueuedItem): Promise<void> {
    await this.db.add("queue", item);
  }

  async queued(limit: number): Promise<QueuedItem[]> {
    return this.db.getAll("queue", undefined, limit);
  }

  async queueLength(): Promise<number> {
    return this.db.count("queue");
  }

  async dequeue(keys: number[]): Promise<void> {
    const tx = this.db.transaction("queue", "readwrite");
    await Promise.all([...keys.map((key) => tx.store.delete(key)), tx.done]);
  }

  close(): void {
    this.db.close();
  }
}
