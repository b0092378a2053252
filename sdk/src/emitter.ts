type Listener<T> = (value: T) => void;

/** A tiny typed event emitter: `on` returns the function that removes the listener. */
export class Emitter<Events extends object> {
  private listeners = new Map<keyof Events, Set<Listener<never>>>();

  on<K extends keyof Events>(name: K, listener: Listener<Events[K]>): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(listener as Listener<never>);
    return () => set!.delete(listener as Listener<never>);
  }

  protected emit<K extends keyof Events>(name: K, value: Events[K]): void {
    for (const listener of this.listeners.get(name) ?? []) {
      try {
        (listener as Listener<Events[K]>)(value);
      } catch (err) {
        // One broken listener must not stop delivery to the others.
        console.error(`feltsync: listener for ${String(name)} failed`, err);
      }
    }
  }
}
