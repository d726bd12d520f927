// A minimal typed event emitter (no Node `events` import, so it runs in
// browsers). Listener exceptions are caught and reported to `onListenerError`
// so that an application bug cannot break the protocol loop.
export class Emitter<Events extends { [K in keyof Events]: (arg: never) => void }> {
  private readonly listeners = new Map<keyof Events, Set<Events[keyof Events]>>();

  constructor(private readonly onListenerError: (e: unknown) => void = () => {}) {}

  on<K extends keyof Events>(name: K, fn: Events[K]): this {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(fn);
    return this;
  }

  off<K extends keyof Events>(name: K, fn: Events[K]): this {
    this.listeners.get(name)?.delete(fn);
    return this;
  }

  once<K extends keyof Events>(name: K, fn: Events[K]): this {
    const wrap = ((arg: never) => {
      this.off(name, wrap);
      (fn as (a: never) => void)(arg);
    }) as Events[K];
    return this.on(name, wrap);
  }

  protected emit<K extends keyof Events>(name: K, arg: Parameters<Events[K]>[0]): void {
    const set = this.listeners.get(name);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        (fn as unknown as (a: unknown) => void)(arg);
      } catch (e) {
        this.onListenerError(e);
      }
    }
  }

  listenerCount<K extends keyof Events>(name: K): number {
    return this.listeners.get(name)?.size ?? 0;
  }
}
