import type { ReplayAnswer, ResyncRequired, RoomEvent } from "./events.js";
import type { Store } from "./store.js";

const SEQ_PREFIX = "seq:";

export interface RoomHooks {
  deliver(event: RoomEvent): void;
  resync(info: ResyncRequired): void;
  /** Fetch logged events after `afterSeq` (over the socket, or REST when it is down). */
  replay(room: string, afterSeq: number): Promise<ReplayAnswer>;
}

/**
 * Per-room ordering: every room event is handed over exactly once and strictly in `seq`
 * order. The last delivered seq of each room is kept in IndexedDB and sent on (re)join;
 * older seqs are duplicates and dropped; a jump ahead is held back while the gap is fetched
 * with `room:replay`. A room whose starting point is not known yet (a first join still in
 * flight) holds everything until the join answers with the room's seq.
 */
export class RoomStreams {
  private last = new Map<string, number>();
  private held = new Map<string, Map<number, RoomEvent>>();
  private unknownBase = new Set<string>();
  private repairing = new Set<string>();

  constructor(private store: Store, private hooks: RoomHooks) {}

  async load(): Promise<void> {
    for (const [key, seq] of await this.store.entries(SEQ_PREFIX)) {
      this.last.set(key.slice(SEQ_PREFIX.length), seq as number);
    }
  }

  lastSeq(room: string): number | undefined {
    return this.last.get(room);
  }

  /** Before a join: with no stored seq, hold events until `joined` gives the start. */
  joining(room: string): void {
    if (!this.last.has(room)) this.unknownBase.add(room);
  }

  /** The join failed: stop holding events for a start that will not come. */
  notJoined(room: string): void {
    if (this.unknownBase.delete(room)) this.held.delete(room);
  }

  /** The join's answer: the room's seq when this socket entered it. */
  joined(room: string, seq: number, resync: boolean): void {
    if (this.unknownBase.delete(room) || resync) this.advance(room, seq);
    this.drain(room);
  }

  receive(event: RoomEvent): void {
    const { room, seq } = event;
    const last = this.last.get(room);
    if (last !== undefined && seq <= last) return; // already delivered
    let held = this.held.get(room);
    if (!held) this.held.set(room, (held = new Map()));
    held.set(seq, event);
    if (last === undefined) {
      if (this.unknownBase.has(room)) return; // the join in flight will say where we are
      // A room nobody asked to join here (the server placed the socket in it): start from
      // the first event seen.
      this.advance(room, seq - 1);
    }
    this.drain(room);
  }

  resyncRequired(info: ResyncRequired): void {
    this.advance(info.room, info.seq);
    this.hooks.resync(info);
    this.drain(info.room);
  }

  private drain(room: string): void {
    const held = this.held.get(room);
    let last = this.last.get(room);
    if (!held || last === undefined) return;
    for (const seq of [...held.keys()]) if (seq <= last) held.delete(seq);
    let next = held.get(last + 1);
    while (next) {
      held.delete(last + 1);
      this.advance(room, last + 1);
      this.hooks.deliver(next);
      last += 1;
      next = held.get(last + 1);
    }
    if (held.size > 0) void this.repair(room);
  }

  /** Fetch what is missing between the last delivered seq and the events held back. */
  private async repair(room: string): Promise<void> {
    if (this.repairing.has(room)) return;
    this.repairing.add(room);
    try {
      for (let round = 0; round < 100 && (this.held.get(room)?.size ?? 0) > 0; round++) {
        const after = this.last.get(room)!;
        const answer = await this.hooks.replay(room, after);
        if (answer.resync_required) {
          this.resyncRequired({ room, seq: answer.seq, state_url: answer.state_url ?? "" });
          break;
        }
        for (const event of answer.events) this.receive({ ...event, room });
        if (!answer.has_more && this.last.get(room) === after) break; // nothing new: wait
      }
    } catch (err) {
      console.warn(`feltsync: replay of ${room} failed, retrying on the next event`, err);
    } finally {
      this.repairing.delete(room);
    }
  }

  private advance(room: string, seq: number): void {
    this.last.set(room, seq);
    void this.store.set(SEQ_PREFIX + room, seq);
  }
}
