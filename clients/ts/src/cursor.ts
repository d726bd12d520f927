// Cursor stores: where a Client keeps the highest offset it delivered in
// order, so that after a restart it syncs from there. Pluggable: anything
// with load/save works. These two import no Node module; FileCursorStore
// (Node only) is in ./node.ts.
//
// load() returns null when nothing is stored yet. It may throw (or reject)
// when the stored cursor is unusable; Client.connect() then rejects.
// save() failures are reported by the Client as an `error` event with code
// cursor_store.

export interface CursorStore {
  load(user: string, device: string): Promise<number | null> | number | null;
  save(user: string, device: string, cursor: number): Promise<void> | void;
}

/** Keeps cursors in memory: the process forgets them when it ends. */
export class MemoryCursorStore implements CursorStore {
  private readonly cursors = new Map<string, number>();

  load(user: string, device: string): number | null {
    return this.cursors.get(`${user}/${device}`) ?? null;
  }

  save(user: string, device: string, cursor: number): void {
    this.cursors.set(`${user}/${device}`, cursor);
  }
}

/** The subset of the Web Storage API used here. */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** Keeps cursors in a browser's localStorage (or any StorageLike), one key per user and device. */
export class LocalStorageCursorStore implements CursorStore {
  private readonly storage: StorageLike;

  constructor(storage?: StorageLike, private readonly keyPrefix = 'courier.cursor') {
    const s = storage ?? (globalThis as { localStorage?: StorageLike }).localStorage;
    if (!s) throw new Error('LocalStorageCursorStore: no localStorage here; pass a storage');
    this.storage = s;
  }

  private key(user: string, device: string): string {
    return `${this.keyPrefix}/${user}/${device}`;
  }

  load(user: string, device: string): number | null {
    const v = this.storage.getItem(this.key(user, device));
    if (v === null) return null;
    const n = Number(v);
    return Number.isInteger(n) && n >= 0 ? n : null;
  }

  save(user: string, device: string, cursor: number): void {
    this.storage.setItem(this.key(user, device), String(cursor));
  }
}
