// Sequencer: turns the entries that arrive (live pushes and pulled pages, in
// any order, with duplicates) into one in-order stream, and decides which
// PULL requests to send. Pure: no I/O, no clock. A port of the C++ client's
// client/src/sequencer.{h,cc}; the rules are the same:
//  - an entry at or below the cursor (the highest offset delivered in order)
//    is a duplicate and is dropped;
//  - the entry right after the cursor is delivered, then every buffered
//    entry that follows without a gap;
//  - an entry beyond cursor + 1 is buffered and, unless a pull is running,
//    a pull "after cursor" is requested;
//  - a pull response skips the offsets it proved absent (expired or never
//    written: the first entry it sent is above `after` + 1, or it sent
//    nothing although the head is beyond `after`); then another pull is
//    requested while the cursor is below the head or a gap remains;
//    otherwise the sync is complete.
// While the cursor is unknown (no stored cursor), entries are buffered until
// the first pull response fixes it.

export interface Entry {
  offset: number;
  pulled: boolean;
}

export interface PullOrder {
  id: string;
  /** Pull the entries after this offset; -1: after the server's cursor. */
  after: number;
  /** A PUSH request: only learn the head. */
  headOnly: boolean;
}

export type StartFrom = 'server' | 'beginning' | 'now';

export interface PullOutcome<E> {
  delivered: E[];
  next: PullOrder | null;
  synced: boolean;
  /** Set to the old cursor when the server's head was below it. */
  resetFrom: number | null;
}

export class Sequencer<E extends Entry> {
  private cursorValue: number | null;
  private readonly buffer = new Map<number, E>();
  private running: { order: PullOrder; lowest: number | null } | null = null;
  private nextId = 1;

  constructor(cursor: number | null, private readonly idPrefix: string) {
    this.cursorValue = cursor;
  }

  get cursor(): number | null { return this.cursorValue; }
  get pulling(): boolean { return this.running !== null; }
  get runningId(): string | null { return this.running?.order.id ?? null; }
  get buffered(): number { return this.buffer.size; }

  /** Sets the cursor while it is unknown (a stored cursor loaded late). */
  restoreCursor(cursor: number): void {
    if (this.cursorValue === null) this.cursorValue = cursor;
  }

  /** Forgets the running pull (after a reconnect); returns the first request of a sync. */
  startSync(start: StartFrom): PullOrder {
    this.running = null;
    if (this.cursorValue !== null) return this.newPull(this.cursorValue);
    if (start === 'beginning') {
      this.cursorValue = 0;
      return this.newPull(0);
    }
    if (start === 'now') return this.newPull(0, true);
    return this.newPull(-1);
  }

  /** A stored entry (offset > 0). Returns what became deliverable, and a pull to send if any. */
  onEntry(e: E): { delivered: E[]; pull: PullOrder | null } {
    const delivered: E[] = [];
    const offset = e.offset;
    if (offset <= 0) return { delivered, pull: null };
    if (this.running && e.pulled && offset > this.running.order.after) {
      this.running.lowest = this.running.lowest === null ? offset : Math.min(this.running.lowest, offset);
    }
    if (this.cursorValue === null) {
      this.buffer.set(offset, e);
      return { delivered, pull: null };
    }
    if (offset <= this.cursorValue) return { delivered, pull: null };
    if (offset === this.cursorValue + 1) {
      this.cursorValue = offset;
      delivered.push(e);
      this.drain(delivered);
      return { delivered, pull: null };
    }
    this.buffer.set(offset, e);
    if (this.running) return { delivered, pull: null };
    return { delivered, pull: this.newPull(this.cursorValue) };
  }

  /** The response to pull `id`: the log's head and how many entries it sent. Stale ids give nothing. */
  onPullResponse(id: string, head: number, count: number): PullOutcome<E> {
    const out: PullOutcome<E> = { delivered: [], next: null, synced: false, resetFrom: null };
    if (!this.running || this.running.order.id !== id) return out;
    const r = this.running;
    this.running = null;

    if (this.cursorValue !== null && head < this.cursorValue) {
      // Another or a wiped store: continue from its head.
      out.resetFrom = this.cursorValue;
      this.cursorValue = head;
      this.buffer.clear();
    }

    if (this.cursorValue === null) {
      if (count > 0 && r.lowest !== null) {
        this.cursorValue = r.lowest - 1;
      } else if (count === 0) {
        this.cursorValue = head;
      } else {
        out.next = this.newPull(r.order.after, r.order.headOnly);  // entries went missing
        return out;
      }
    } else if (!r.order.headOnly && r.order.after >= 0) {
      let absentUntil = r.order.after;
      if (count > 0 && r.lowest !== null) absentUntil = r.lowest - 1;
      else if (count === 0) absentUntil = head;
      const first = this.firstBuffered();
      if (first !== null) absentUntil = Math.min(absentUntil, first - 1);
      if (this.cursorValue >= r.order.after && this.cursorValue < absentUntil) this.cursorValue = absentUntil;
    }
    this.drain(out.delivered);

    if (this.cursorValue < head || this.buffer.size > 0) {
      out.next = this.newPull(this.cursorValue);
    } else {
      out.synced = true;
    }
    return out;
  }

  /** Pull `id` failed (transient error, timeout): the request to send instead, or null if not running. */
  onPullFailed(id: string): PullOrder | null {
    if (!this.running || this.running.order.id !== id) return null;
    const old = this.running.order;
    this.running = null;
    if (this.cursorValue !== null) return this.newPull(this.cursorValue);
    return this.newPull(old.after, old.headOnly);
  }

  private newPull(after: number, headOnly = false): PullOrder {
    const order = { id: `${this.idPrefix}${this.nextId++}`, after, headOnly };
    this.running = { order, lowest: null };
    return order;
  }

  private firstBuffered(): number | null {
    let min: number | null = null;
    for (const k of this.buffer.keys()) if (min === null || k < min) min = k;
    return min;
  }

  private drain(out: E[]): void {
    if (this.cursorValue === null) return;
    for (;;) {
      const first = this.firstBuffered();
      if (first === null) return;
      if (first <= this.cursorValue) {
        this.buffer.delete(first);
      } else if (first === this.cursorValue + 1) {
        this.cursorValue = first;
        out.push(this.buffer.get(first)!);
        this.buffer.delete(first);
      } else {
        return;
      }
    }
  }
}
