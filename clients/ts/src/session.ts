// Session: the Courier protocol without I/O (sans-I/O core).
//
// It never touches a socket, a timer or a clock, and uses no Node-only API,
// so it runs the same in browsers, Node and the conformance trace replayer.
// The caller feeds it inputs — app commands (send, markReceived, markRead,
// setActivity), inbound publishes (receive), connection changes
// (connectionUp/connectionDown) and time (every input takes `now`, epoch ms;
// tick(now) when nextDeadline() is due) — and then takes the resulting
// actions with takeActions(): publishes, subscribes, application events, and
// cursor changes to persist. See ../README.md for the behaviour; it follows
// the C++ client's session (clients/cpp/src/session.cc) rule for rule.
//
// Errors: send() and setActivity() throw CourierArgumentError for invalid
// arguments (nothing is queued then). No other method throws: a malformed
// inbound publish becomes an `error` event (code malformed_publish).
import { clone } from '@bufbuild/protobuf';
import { backoffDelay, type Backoff } from './backoff.js';
import { CourierArgumentError, CourierError, splitError } from './errors.js';
import { Sequencer, type PullOrder, type StartFrom } from './sequencer.js';
import {
  ACTIVITY_STATUSES, type ActivityStatus, type ChatMessage, type Recipient, type SendOptions, type SendResult,
} from './types.js';
import { checkRecipient, checkSend, DEFAULT_LIMITS, isValidName, type Limits } from './validate.js';
import * as wire from './wire.js';

export interface SessionOptions {
  user: string;
  device: string;
  /** plugin_opt_topic_prefix of the broker; default `msg`. */
  prefix?: string;
  /** Highest offset already delivered (from a cursor store); null: unknown. */
  cursor?: number | null;
  /** Where to start without a cursor: after the server's cursor (default), the beginning, or now. */
  startFrom?: StartFrom;
  /** Entries per PULL; default 100. */
  pullLimit?: number;
  /** Backoff of send retries, pull retries and receipts after a transient error; default 1 s .. 15 s. */
  retry?: Backoff;
  /** Longest wait for a pull response before pulling again; default 10 s. */
  pullTimeoutMs?: number;
  limits?: Partial<Limits>;
  /** Message ids for sends without one; default 16 random hex characters. */
  newId?: () => string;
  /** Prefix of pull request ids; default `sync-<random>-`. */
  pullIdPrefix?: string;
  /** Jitter source in [0, 1); default Math.random. 0.5 means no jitter. */
  random?: () => number;
}

export type SessionEvent =
  | { type: 'message'; message: ChatMessage }
  | { type: 'receipt'; receipt: import('./types.js').Receipt }
  | { type: 'activity'; activity: import('./types.js').Activity }
  | { type: 'error'; error: CourierError }
  | { type: 'synced'; head: number }
  | { type: 'sendResolved'; id: string; result: SendResult }
  | { type: 'sendRejected'; id: string; error: CourierError };

export type Action =
  | { type: 'publish'; topic: string; payload: Uint8Array; qos: 0 | 1; sendId?: string }
  | { type: 'subscribe'; topics: string[] }
  | { type: 'event'; event: SessionEvent }
  /** The in-order cursor moved: persist it. */
  | { type: 'cursor'; cursor: number };

interface PendingSend {
  id: string;
  message: wire.PbMessage;
  bytes: Uint8Array;
  transient: boolean;
  attempts: number;
  nextAttempt: number;
  giveUpAt: number | null;
}

interface PendingReceipt {
  offset: number;
  read: boolean;
  id: string;
  notBefore: number;
  failures: number;
}

const RECENT_IDS = 4096;
const RECENT_RECEIPTS = 1024;

export function randomHex(chars: number, random: () => number = Math.random): string {
  const c = (globalThis as { crypto?: { getRandomValues?: (a: Uint8Array) => Uint8Array } }).crypto;
  const bytes = new Uint8Array(Math.ceil(chars / 2));
  if (c?.getRandomValues) c.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('').slice(0, chars);
}

export class Session {
  readonly user: string;
  readonly device: string;
  readonly topics: wire.Topics;
  private readonly limits: Limits;
  private readonly pullLimit: number;
  private readonly retry: Backoff;
  private readonly pullTimeoutMs: number;
  private readonly startFrom: StartFrom;
  private readonly newId: () => string;
  private readonly random: () => number;
  private readonly seq: Sequencer<ChatMessage>;

  private actions: Action[] = [];
  private online = false;
  private closed = false;
  private readonly sends = new Map<string, PendingSend>();
  private receipts: PendingReceipt[] = [];
  private readonly sentReceipts = new Map<string, PendingReceipt>();
  private readonly recentIds = new Map<number, string>();
  private pullDeadline: number | null = null;
  private pullRetry: { order: PullOrder; at: number } | null = null;
  private pullFailures = 0;
  private reportedCursor: number | null;

  constructor(o: SessionOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...o.limits };
    if (!isValidName(o.user, this.limits)) throw new CourierArgumentError('invalid_argument', 'user must be a non-empty topic level');
    if (!isValidName(o.device, this.limits)) throw new CourierArgumentError('invalid_argument', 'device must be a non-empty topic level');
    this.user = o.user;
    this.device = o.device;
    this.topics = wire.topicsFor(o.prefix ?? 'msg', o.user, o.device);
    this.pullLimit = o.pullLimit ?? 100;
    this.retry = o.retry ?? { initialMs: 1000, maxMs: 15000 };
    this.pullTimeoutMs = o.pullTimeoutMs ?? 10000;
    this.startFrom = o.startFrom ?? 'server';
    this.random = o.random ?? Math.random;
    this.newId = o.newId ?? (() => randomHex(16, this.random));
    this.seq = new Sequencer(o.cursor ?? null, o.pullIdPrefix ?? `sync-${randomHex(8, this.random)}-`);
    this.reportedCursor = o.cursor ?? null;
  }

  /** The highest offset delivered in order; null while unknown. */
  get cursor(): number | null { return this.seq.cursor; }
  get isOnline(): boolean { return this.online; }
  get pendingSends(): number { return this.sends.size; }

  /** Sets the cursor loaded from a store, if none is known yet (call before the first connectionUp). */
  restoreCursor(cursor: number | null): void {
    if (cursor === null || this.seq.cursor !== null) return;
    this.seq.restoreCursor(cursor);
    this.reportedCursor = cursor;
  }

  /** Everything the inputs so far asked for, in order; empties the queue. */
  takeActions(): Action[] {
    const c = this.seq.cursor;
    if (c !== null && c !== this.reportedCursor) {
      this.reportedCursor = c;
      this.actions.push({ type: 'cursor', cursor: c });
    }
    const out = this.actions;
    this.actions = [];
    return out;
  }

  /** When tick() is next needed (epoch ms), or null. */
  nextDeadline(): number | null {
    let t: number | null = null;
    const min = (v: number | null) => { if (v !== null && (t === null || v < t)) t = v; };
    for (const p of this.sends.values()) {
      if (this.online && !p.transient) min(p.nextAttempt);
      min(p.giveUpAt);
    }
    if (this.online) {
      for (const r of this.receipts) min(r.notBefore);
      min(this.pullDeadline);
      min(this.pullRetry?.at ?? null);
    }
    return t;
  }

  // ---- connection ----

  /** The connection is up: subscribes, republishes pending work and starts a sync. */
  connectionUp(now: number): void {
    if (this.closed) return;
    this.online = true;
    const t = this.topics;
    this.actions.push({ type: 'subscribe', topics: [t.events, t.deviceEvents, t.inbox, t.deviceInbox] });
    for (const p of this.sends.values()) this.publishSend(p, now);
    this.publishDueReceipts(now);
    this.pullRetry = null;
    this.publishPull(this.seq.startSync(this.startFrom), now);
  }

  /** The connection is gone. Transient sends end with connection_lost; the rest waits. */
  connectionDown(_now: number, reason = 'connection lost'): void {
    if (!this.online) return;
    this.online = false;
    this.pullDeadline = null;
    this.pullRetry = null;
    for (const p of [...this.sends.values()]) {
      if (p.transient) this.reject(p.id, new CourierError('connection_lost', `transient message not acknowledged: ${reason}`, { id: p.id, local: true }));
    }
  }

  /** Ends every pending send with `closed`. The session does nothing after it. */
  close(): void {
    for (const p of [...this.sends.values()]) {
      this.reject(p.id, new CourierError('closed', 'the client was closed', { id: p.id, local: true }));
    }
    this.online = false;
    this.closed = true;
  }

  // ---- time ----

  tick(now: number): void {
    if (this.closed) return;
    if (this.online) {
      for (const p of this.sends.values()) if (!p.transient && now >= p.nextAttempt) this.publishSend(p, now);
      this.publishDueReceipts(now);
      if (this.pullDeadline !== null && now >= this.pullDeadline) {
        this.pullDeadline = null;
        const id = this.seq.runningId;
        const again = id === null ? null : this.seq.onPullFailed(id);
        if (again) this.publishPull(again, now);
      }
      if (this.pullRetry && now >= this.pullRetry.at) {
        const { order } = this.pullRetry;
        this.pullRetry = null;
        if (this.seq.runningId === order.id) this.publishPull(order, now);
      }
    }
    for (const p of [...this.sends.values()]) {
      if (p.giveUpAt !== null && now >= p.giveUpAt) {
        const detail = this.online ? 'no acknowledgement in time' : 'not connected in time';
        this.reject(p.id, new CourierError('timeout', detail, { id: p.id, local: true }));
      }
    }
  }

  // ---- app commands ----

  /** Queues a message (published now when online). Returns its id. Throws CourierArgumentError. */
  send(to: Recipient, payload: string | Uint8Array, opts: SendOptions, now: number): string {
    if (this.closed) throw new CourierError('closed', 'the client was closed', { local: true });
    const bytes = checkSend(to, payload, opts, this.limits);
    const id = opts.id ?? this.newId();
    if (this.sends.has(id)) throw new CourierArgumentError('id_pending', `a send with id ${id} is in progress`);
    const message = wire.newMessage({
      id,
      to: to.group ? { group: to.group } : { user: to.user },
      timestamp: BigInt(opts.timestamp ?? now),
      payload: bytes,
      type: opts.type ?? 0,
      expiry: opts.expiry ?? 0,
      priority: opts.priority ?? 0,
      transient: !!opts.transient,
      replaces: opts.replaces ?? '',
      recall: !!opts.recall,
    });
    const p: PendingSend = {
      id, message, bytes: wire.encodeMessage(message), transient: !!opts.transient, attempts: 0,
      nextAttempt: now, giveUpAt: opts.timeout ? now + opts.timeout : null,
    };
    this.sends.set(id, p);
    if (this.online) this.publishSend(p, now);
    return id;
  }

  /** A receipt for entry `ref.offset` of this user's log (read implies received). */
  mark(ref: { offset: number; id?: string }, read: boolean, now: number): void {
    if (this.closed) return;
    if (!ref || !Number.isInteger(ref.offset) || ref.offset < 1) {
      throw new CourierArgumentError('invalid_argument', 'a receipt needs a stored message (offset >= 1)');
    }
    const id = ref.id || this.recentIds.get(ref.offset) || `receipt-${ref.offset}`;
    this.receipts.push({ offset: ref.offset, read, id, notBefore: now, failures: 0 });
    if (this.online) this.publishDueReceipts(now);
  }

  /** Publishes an activity; false when offline (activity is never queued). Throws CourierArgumentError. */
  setActivity(to: Recipient, status: ActivityStatus | number, now: number): boolean {
    checkRecipient(to, this.limits);
    const n = typeof status === 'number' ? status : ACTIVITY_STATUSES.indexOf(status);
    if (!Number.isInteger(n) || n < 1 || n > 8) throw new CourierArgumentError('invalid_status', `unknown status ${String(status)}`);
    if (!this.online || this.closed) return false;
    const s = wire.newSignal({
      type: wire.REQUEST, status: n, timestamp: BigInt(now),
      to: to.group ? { group: to.group } : { user: to.user },
    });
    this.publish(this.topics.signal, wire.encodeSignal(s), 1);
    return true;
  }

  /** The broker refused a publish of send `id` for good (MQTT 5 PUBACK reason >= 0x80). */
  publishRefused(id: string, reason: string): void {
    if (this.sends.has(id)) this.reject(id, new CourierError('refused', `the broker refused the publish: ${reason}`, { id, local: true }));
  }

  // ---- inbound ----

  /** An inbound publish. Topics that are not this device's are ignored. */
  receive(topic: string, payload: Uint8Array, now: number): void {
    if (this.closed) return;
    const t = this.topics;
    if (topic === t.inbox || topic === t.deviceInbox) {
      let m: wire.PbMessage;
      try {
        m = wire.decodeMessage(payload);
      } catch (e) {
        this.malformed(topic, 'Message', e);
        return;
      }
      const msg = wire.toChatMessage(m, topic === t.deviceInbox && m.signalRequest === wire.PULL);
      if (msg.offset <= 0) {
        this.deliver([msg]);  // transient: not stored, not ordered
        return;
      }
      const { delivered, pull } = this.seq.onEntry(msg);
      this.deliver(delivered);
      if (pull) this.publishPull(pull, now);
    } else if (topic === t.events || topic === t.deviceEvents) {
      let s: wire.PbSignal;
      try {
        s = wire.decodeSignal(payload);
      } catch (e) {
        this.malformed(topic, 'Signal', e);
        return;
      }
      this.onSignal(s, now);
    }
  }

  private malformed(topic: string, what: string, e: unknown): void {
    const why = e instanceof Error ? e.message : String(e);
    this.event({ type: 'error', error: new CourierError('malformed_publish', `undecodable ${what} on ${topic}: ${why}`, { local: true }) });
  }

  private onSignal(s: wire.PbSignal, now: number): void {
    const id = s.id;
    const send = id ? this.sends.get(id) : undefined;
    const isPull = id !== '' && this.seq.runningId === id;
    const errorOf = (permanent: boolean) => {
      const [code, detail] = splitError(s.error ?? '');
      return new CourierError(code, detail, { id, permanent });
    };

    if (s.type === wire.ERROR) {
      if (send) this.reject(id, errorOf(true));
      else this.event({ type: 'error', error: errorOf(true) });
      return;
    }
    if (s.status !== 0) {
      this.event({ type: 'activity', activity: wire.toActivity(s) });
      return;
    }
    if (s.type !== wire.RESPONSE) return;

    if (!s.signalOffsetState && s.error !== undefined) {  // transient: retry later
      if (send) {
        send.nextAttempt = now + backoffDelay(this.retry, Math.max(send.attempts - 1, 0), this.random);
      } else if (isPull) {
        this.pullDeadline = null;
        const again = this.seq.onPullFailed(id);
        if (again) this.pullRetry = { order: again, at: now + backoffDelay(this.retry, this.pullFailures++, this.random) };
      } else if (id && this.sentReceipts.has(id)) {
        const r = this.sentReceipts.get(id)!;
        this.sentReceipts.delete(id);
        this.receipts.push({ ...r, notBefore: now + backoffDelay(this.retry, r.failures, this.random), failures: r.failures + 1 });
      } else {
        this.event({ type: 'error', error: errorOf(false) });
      }
      return;
    }

    if (s.signalRequest === wire.PULL) {  // a pull (or push) response
      if (!isPull) return;  // stale
      this.pullDeadline = null;
      const out = this.seq.onPullResponse(id, s.signalOffset, s.limit);
      if (out.resetFrom !== null) {
        this.event({ type: 'error', error: new CourierError('cursor_ahead', `the server's head ${s.signalOffset} is below the local cursor ${out.resetFrom}; continuing from the head`, { local: true }) });
      }
      this.deliver(out.delivered);
      if (out.next) this.publishPull(out.next, now);
      if (out.synced) {
        this.pullFailures = 0;
        this.event({ type: 'synced', head: s.signalOffset });
      }
      return;
    }

    const st = s.signalType;
    if (st === wire.SENDER && s.signalOffsetState && send) {
      this.ownCopy(send, s, now);
      this.sends.delete(id);
      this.event({
        type: 'sendResolved', id,
        result: { id, offset: s.signalOffset, userOffset: s.userOffset, serverTimestamp: Number(s.timestamp), attempts: send.attempts },
      });
    }
    if ((st === wire.SENDER && s.signalOffsetState) || st === wire.RECEIVER || st === wire.DEVICE) {
      this.event({ type: 'receipt', receipt: wire.toReceipt(s) });
    }
  }

  // The server does not echo a DEVICE copy to the device that sent it: the
  // entry is rebuilt from the Message sent and its SENDER ack, so the log has
  // no gap to pull. Only for an ack from this device (dedup is per user: the
  // id may have been stored from another device, whose copy we do get).
  private ownCopy(p: PendingSend, ack: wire.PbSignal, now: number): void {
    if (p.transient || ack.signalOffset <= 0) return;
    if (ack.from?.user !== this.user || ack.from?.device !== this.device) return;
    const m = clone(wire.MessageSchema, p.message);
    m.signalOffset = ack.signalOffset;
    m.userOffset = ack.userOffset;
    m.from = clone(wire.IdentitySchema, ack.from);
    m.signalType = wire.DEVICE;
    m.signalOffsetState = true;
    m.signalAckState = ack.signalAckState ? clone(wire.AckStateSchema, ack.signalAckState) : undefined;
    m.serverTimestamp = ack.timestamp;
    m.signalRequest = 0;
    const { delivered, pull } = this.seq.onEntry(wire.toChatMessage(m, false));
    this.deliver(delivered);
    if (pull) this.publishPull(pull, now);
  }

  // ---- outbound ----

  private event(event: SessionEvent): void {
    this.actions.push({ type: 'event', event });
  }

  private publish(topic: string, payload: Uint8Array, qos: 0 | 1, sendId?: string): void {
    const a: Action = { type: 'publish', topic, payload, qos };
    if (sendId !== undefined) a.sendId = sendId;
    this.actions.push(a);
  }

  private deliver(batch: ChatMessage[]): void {
    for (const m of batch) {
      if (m.offset > 0) {
        this.recentIds.set(m.offset, m.id);
        if (this.recentIds.size > RECENT_IDS) this.recentIds.delete(this.recentIds.keys().next().value as number);
      }
      this.event({ type: 'message', message: m });
    }
  }

  private reject(id: string, error: CourierError): void {
    if (!this.sends.delete(id)) return;
    this.event({ type: 'sendRejected', id, error });
  }

  private publishSend(p: PendingSend, now: number): void {
    this.publish(this.topics.send, p.bytes, 1, p.id);
    p.attempts++;
    p.nextAttempt = now + backoffDelay(this.retry, p.attempts - 1, this.random);
  }

  private publishDueReceipts(now: number): void {
    const later: PendingReceipt[] = [];
    for (const r of this.receipts) {
      if (now < r.notBefore) {
        later.push(r);
        continue;
      }
      const s = wire.newSignal({
        id: r.id, signalOffset: r.offset, timestamp: BigInt(now), type: wire.REQUEST, signalType: wire.RECEIVER,
        signalAckState: { received: true, read: r.read },
      });
      this.publish(this.topics.signal, wire.encodeSignal(s), 1);
      // Kept by id so that a transient error (rate_limited) can send it again.
      this.sentReceipts.delete(r.id);
      this.sentReceipts.set(r.id, r);
      if (this.sentReceipts.size > RECENT_RECEIPTS) this.sentReceipts.delete(this.sentReceipts.keys().next().value as string);
    }
    this.receipts = later;
  }

  private publishPull(o: PullOrder, now: number): void {
    if (!this.online) return;  // the next connectionUp starts a new sync
    const s = wire.newSignal({
      id: o.id, type: wire.REQUEST, signalRequest: o.headOnly ? wire.PUSH : wire.PULL,
      signalOffset: o.after, limit: this.pullLimit, timestamp: BigInt(now),
    });
    this.publish(this.topics.signal, wire.encodeSignal(s), 1);
    this.pullDeadline = now + this.pullTimeoutMs;
  }
}
