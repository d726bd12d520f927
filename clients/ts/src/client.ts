// Client: the Session (sans-I/O protocol core) wired to mqtt.js 5 and real
// timers. Works in Node 18+ and browsers, over mqtt://, mqtts://, ws:// and
// wss:// (whatever mqtt.js supports where it runs).
//
// Contract:
//  - the constructor throws CourierArgumentError for unusable options;
//  - connect() resolves on the first connection, then the client keeps
//    reconnecting until close(); it rejects if the broker refuses the login
//    for good (bad credentials, not authorized), if the cursor store cannot
//    load, or if close() comes first;
//  - send() resolves with the offsets once the server acknowledged the
//    message (retrying the same id meanwhile) and rejects with a
//    CourierError: a server code (permanent), or timeout, closed,
//    connection_lost (transient sends), refused. Invalid arguments reject
//    with CourierArgumentError before anything is published;
//  - listeners run synchronously inside the client; an exception thrown by a
//    listener is caught and dropped (reported to `listenerError`, if set).
// The default export: mqtt's browser ESM build (what bundlers pick) has no named ones.
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Backoff } from './backoff.js';
import { CourierError } from './errors.js';
import type { CursorStore } from './cursor.js';
import { Emitter } from './emitter.js';
import type { StartFrom } from './sequencer.js';
import { Session, type Action, type SessionEvent } from './session.js';
import type {
  Activity, ActivityStatus, ChatMessage, MessageRef, Receipt, Recipient, SendOptions, SendResult,
} from './types.js';

export interface ClientOptions {
  /** Broker URL: mqtt://, mqtts://, ws:// or wss://. */
  url: string;
  /** Courier user (MQTT username). */
  user: string;
  /** Courier device (MQTT client id). */
  device: string;
  password?: string;
  /** Where the cursor is kept between runs; default: memory only. */
  cursorStore?: CursorStore;
  /** MQTT keepalive, seconds; default 30. */
  keepalive?: number;
  /** plugin_opt_topic_prefix of the broker; default `msg`. */
  prefix?: string;
  /** Where to start without a stored cursor; default: after the server's cursor. */
  startFrom?: StartFrom;
  pullLimit?: number;
  /** Backoff of send retries; default 1 s doubling up to 15 s. */
  retry?: Backoff;
  pullTimeoutMs?: number;
  /** Wait between reconnect attempts, ms; default 1000. */
  reconnectPeriod?: number;
  /** Longest wait for CONNACK, ms; default 10000. */
  connectTimeout?: number;
  /** Extra mqtt.js options (TLS: ca, cert, key, rejectUnauthorized, ...). */
  mqtt?: Partial<IClientOptions>;
}

export interface ConnectionEvent {
  connected: boolean;
  error?: string;
}

export interface ClientEvents {
  message: (m: ChatMessage) => void;
  receipt: (r: Receipt) => void;
  activity: (a: Activity) => void;
  connection: (e: ConnectionEvent) => void;
  synced: (head: number) => void;
  error: (e: CourierError) => void;
  /** A listener threw; the exception is passed here. */
  listenerError: (e: unknown) => void;
}

// PUBACK reasons (MQTT 5) that another attempt will not change.
const PERMANENT_PUBACK = new Set([0x87, 0x90, 0x95, 0x99]);
// CONNACK reasons (MQTT 5, and 3.1.1's 1..5) that another attempt will not change.
const PERMANENT_CONNACK = new Set([1, 2, 4, 5, 0x84, 0x85, 0x86, 0x87, 0x8a, 0x8c]);
const SESSION_TAKEN_OVER = 0x8e;

export class Client extends Emitter<ClientEvents> {
  readonly options: Readonly<ClientOptions>;
  private readonly session: Session;
  private mqtt: MqttClient | null = null;
  private readonly waiting = new Map<string, { resolve: (r: SendResult) => void; reject: (e: CourierError) => void }>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private flushing = false;
  private again = false;
  private connecting: Promise<void> | null = null;
  private closed = false;
  private online = false;
  private lastError: string | undefined;
  private saving: Promise<unknown> = Promise.resolve();
  private rejectConnect: ((e: CourierError) => void) | null = null;

  constructor(options: ClientOptions) {
    super((e) => this.emit('listenerError', e));
    if (!options || typeof options.url !== 'string' || options.url === '') {
      throw new CourierError('invalid_argument', 'url is required', { local: true });
    }
    this.options = { ...options };
    this.session = new Session({
      user: options.user, device: options.device, prefix: options.prefix, startFrom: options.startFrom,
      pullLimit: options.pullLimit, retry: options.retry, pullTimeoutMs: options.pullTimeoutMs,
    });
  }

  get user(): string { return this.session.user; }
  get device(): string { return this.session.device; }
  /** The highest offset delivered in order; null while unknown. */
  get cursor(): number | null { return this.session.cursor; }
  get connected(): boolean { return this.online; }
  get pendingSends(): number { return this.session.pendingSends; }

  /** Connects (once); resolves on the first connection. */
  connect(): Promise<void> {
    if (this.closed) return Promise.reject(new CourierError('closed', 'the client was closed', { local: true }));
    this.connecting ??= this.start();
    return this.connecting;
  }

  private async start(): Promise<void> {
    const store = this.options.cursorStore;
    if (store) this.session.restoreCursor(await store.load(this.user, this.device));
    if (this.closed) throw new CourierError('closed', 'the client was closed', { local: true });
    const o = this.options;
    const m = mqtt.connect(o.url, {
      clientId: o.device,
      username: o.user,
      password: o.password,
      protocolVersion: 5,
      clean: true,
      keepalive: o.keepalive ?? 30,
      reconnectPeriod: o.reconnectPeriod ?? 1000,
      connectTimeout: o.connectTimeout ?? 10000,
      resubscribe: false,  // the session subscribes on every connection
      queueQoSZero: false,
      ...o.mqtt,
    });
    this.mqtt = m;
    await new Promise<void>((resolve, reject) => {
      let first = true;
      this.rejectConnect = (e) => {
        if (first) {
          first = false;
          reject(e);
        }
      };
      m.on('connect', () => {
        this.online = true;
        this.lastError = undefined;
        this.session.connectionUp(Date.now());
        this.flush();
        this.emit('connection', { connected: true });
        if (first) {
          first = false;
          resolve();
        }
      });
      m.on('message', (topic, payload) => {
        this.session.receive(topic, new Uint8Array(payload), Date.now());
        this.flush();
      });
      m.on('error', (err: Error & { code?: number }) => {
        this.lastError = err.message;
        if (typeof err.code === 'number' && PERMANENT_CONNACK.has(err.code)) {
          this.fail(`connection refused: ${err.message}`);
          if (first) {
            first = false;
            reject(new CourierError('connection_failed', err.message, { local: true }));
          }
        }
      });
      m.on('disconnect', (packet) => {
        if (packet.reasonCode === SESSION_TAKEN_OVER) {
          this.fail(`another connection took over client id ${o.device}`);
        } else if (packet.reasonCode) {
          this.lastError = `disconnected by the broker: reason ${packet.reasonCode}`;
        }
      });
      m.on('close', () => this.down());
    });
    this.rejectConnect = null;
  }

  private down(): void {
    if (!this.online) return;
    this.online = false;
    this.session.connectionDown(Date.now(), this.lastError ?? 'connection lost');
    this.flush();
    this.emit('connection', this.lastError ? { connected: false, error: this.lastError } : { connected: false });
  }

  // The broker refused us for good: stop reconnecting, end pending sends.
  private fail(reason: string): void {
    this.lastError = reason;
    const wasOnline = this.online;
    this.mqtt?.end(true);
    this.down();
    this.session.close();
    this.flush();
    if (!wasOnline) this.emit('connection', { connected: false, error: reason });
  }

  /** Sends to a user or a group. See the module comment for how it resolves. */
  send(to: Recipient, payload: string | Uint8Array, options: SendOptions = {}): Promise<SendResult> {
    let id: string;
    try {
      id = this.session.send(to, payload, options, Date.now());
    } catch (e) {
      return Promise.reject(e);
    }
    const p = new Promise<SendResult>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    this.flush();
    return p;
  }

  /** Receipt: this device received message `m` (queued while offline). */
  markReceived(m: MessageRef): void {
    this.session.mark(m, false, Date.now());
    this.flush();
  }

  /** Receipt: the user read message `m` (implies received). */
  markRead(m: MessageRef): void {
    this.session.mark(m, true, Date.now());
    this.flush();
  }

  /** Tells `to` what this user is doing. Not queued: false when offline. */
  setActivity(to: Recipient, status: ActivityStatus): boolean {
    const ok = this.session.setActivity(to, status, Date.now());
    this.flush();
    return ok;
  }

  /** Ends pending sends with `closed`, disconnects, and waits for the last cursor save. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.session.close();
    this.flush();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const m = this.mqtt;
    if (m) {
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => m.end(true, {}, () => resolve()), 1000);
        m.end(false, {}, () => {
          clearTimeout(force);
          resolve();
        });
      });
    }
    this.lastError = undefined;
    this.down();  // if 'close' has not come yet
    this.rejectConnect?.(new CourierError('closed', 'the client was closed before it connected', { local: true }));
    await this.saving;
  }

  // Runs the session's actions. Re-entrant calls (a listener that sends)
  // are folded into the running loop.
  private flush(): void {
    if (this.flushing) {
      this.again = true;
      return;
    }
    this.flushing = true;
    try {
      do {
        this.again = false;
        for (const a of this.session.takeActions()) this.run(a);
      } while (this.again);
    } finally {
      this.flushing = false;
    }
    this.schedule();
  }

  private run(a: Action): void {
    const m = this.mqtt;
    switch (a.type) {
      case 'publish':
        if (!m) return;
        m.publish(a.topic, a.payload as Buffer, { qos: a.qos }, (err) => {
          const code = (err as { code?: number } | undefined)?.code;
          if (a.sendId !== undefined && typeof code === 'number' && PERMANENT_PUBACK.has(code)) {
            this.session.publishRefused(a.sendId, err!.message);
            this.flush();
          }
        });
        return;
      case 'subscribe':
        if (!m) return;
        m.subscribe(a.topics, { qos: 1 }, (err, granted) => {
          // An error here is the connection ending, reported by 'close'.
          const refused = err ? [] : granted?.filter((g) => g.qos >= 0x80).map((g) => g.topic) ?? [];
          if (refused.length > 0) {
            this.emit('error', new CourierError('subscribe_refused', refused.join(', '), { local: true }));
          }
        });
        return;
      case 'cursor': {
        const store = this.options.cursorStore;
        if (!store) return;
        const cursor = a.cursor;
        this.saving = this.saving
          .then(() => store.save(this.user, this.device, cursor))
          .catch((e: unknown) => this.emit('error', new CourierError('cursor_store', e instanceof Error ? e.message : String(e), { local: true })));
        return;
      }
      case 'event':
        this.dispatch(a.event);
    }
  }

  private dispatch(e: SessionEvent): void {
    switch (e.type) {
      case 'message': this.emit('message', e.message); return;
      case 'receipt': this.emit('receipt', e.receipt); return;
      case 'activity': this.emit('activity', e.activity); return;
      case 'synced': this.emit('synced', e.head); return;
      case 'error': this.emit('error', e.error); return;
      case 'sendResolved': {
        const w = this.waiting.get(e.id);
        this.waiting.delete(e.id);
        w?.resolve(e.result);
        return;
      }
      case 'sendRejected': {
        const w = this.waiting.get(e.id);
        this.waiting.delete(e.id);
        w?.reject(e.error);
      }
    }
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.closed) return;
    const at = this.session.nextDeadline();
    if (at === null) return;
    const delay = Math.min(Math.max(at - Date.now(), 0), 0x7fffffff);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.session.tick(Date.now());
      this.flush();
    }, delay);
  }
}
