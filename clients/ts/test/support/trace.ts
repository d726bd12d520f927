// Replays a conformance trace (clients/conformance/README.md) against the
// Session and returns the mismatches (empty: the trace passes).
import { fromBinary, fromJson, toJson, toBinary, type JsonValue } from '@bufbuild/protobuf';
import { MessageSchema, SignalSchema } from '../../gen/messaging_pb.js';
import { Session, type Action, type SessionEvent } from '../../src/session.js';
import type { ChatMessage } from '../../src/types.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

export interface Trace {
  name: string;
  description?: string;
  session: Obj;
  steps: Obj[];
}

const hex = (s: string) => Uint8Array.from(s.match(/../g) ?? [], (b) => parseInt(b, 16));
const text = new TextDecoder();

class Matcher {
  readonly vars = new Map<string, Json>();

  // Replaces {"$ref": name} by the captured value (inbound data).
  resolve(v: Json): Json {
    if (Array.isArray(v)) return v.map((x) => this.resolve(x));
    if (v && typeof v === 'object') {
      if (typeof v.$ref === 'string') {
        if (!this.vars.has(v.$ref)) throw new Error(`$ref ${v.$ref} was never captured`);
        return this.vars.get(v.$ref)!;
      }
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, this.resolve(x)]));
    }
    return v;
  }

  // Subset match of expected against actual; pushes differences to `errs`.
  match(path: string, want: Json, got: Json, errs: string[]): void {
    if (want && typeof want === 'object' && !Array.isArray(want)) {
      if (want.$any === true) return;
      if (typeof want.$capture === 'string') {
        const name = want.$capture;
        if (this.vars.has(name)) this.match(path, this.vars.get(name)!, got, errs);
        else this.vars.set(name, got);
        return;
      }
      if (typeof want.$ref === 'string') return this.match(path, this.resolve(want), got, errs);
      if (!got || typeof got !== 'object' || Array.isArray(got)) {
        errs.push(`${path}: want an object, got ${JSON.stringify(got)}`);
        return;
      }
      for (const [k, w] of Object.entries(want)) this.match(`${path}.${k}`, w, (got as Obj)[k] ?? null, errs);
      return;
    }
    if (Array.isArray(want)) {
      if (!Array.isArray(got) || got.length !== want.length) {
        errs.push(`${path}: want ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
        return;
      }
      want.forEach((w, i) => this.match(`${path}[${i}]`, w, got[i], errs));
      return;
    }
    // int64 fields are strings in proto JSON: compare numbers by value.
    const same = want === got || ((typeof want === 'number' || typeof got === 'number') && String(want) === String(got));
    if (!same) errs.push(`${path}: want ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
  }
}

function messageJson(m: ChatMessage): Obj {
  return {
    event: 'message', id: m.id, offset: m.offset, userOffset: m.userOffset, kind: m.kind,
    from: m.from as unknown as Json, to: m.to as unknown as Json, timestamp: m.timestamp, serverTimestamp: m.serverTimestamp,
    text: text.decode(m.payload), type: m.type, transient: m.transient, pulled: m.pulled,
    state: m.state as unknown as Json, edited: m.edited, recalled: m.recalled, replaces: m.replaces, recall: m.recall,
  };
}

export function eventJson(e: SessionEvent): Obj {
  switch (e.type) {
    case 'message': return messageJson(e.message);
    case 'receipt': return { event: 'receipt', ...(e.receipt as unknown as Obj) };
    case 'activity': return { event: 'activity', ...(e.activity as unknown as Obj) };
    case 'synced': return { event: 'synced', head: e.head };
    case 'error': return { event: 'error', code: e.error.code, detail: e.error.detail, id: e.error.id, permanent: e.error.permanent, local: e.error.local };
    case 'sendResolved': return { event: 'sendResolved', ...(e.result as unknown as Obj) };
    case 'sendRejected': return { event: 'sendRejected', id: e.id, code: e.error.code, detail: e.error.detail };
  }
}

function publishJson(a: Extract<Action, { type: 'publish' }>): Obj {
  const isSend = a.topic.endsWith('/send');
  const schema = isSend ? MessageSchema : SignalSchema;
  const decoded = toJson(schema, fromBinary(schema, a.payload), { alwaysEmitImplicit: true }) as Json;
  return { topic: a.topic, qos: a.qos, [isSend ? 'message' : 'signal']: decoded };
}

/** Runs one trace; returns its failures. */
export function replay(trace: Trace): string[] {
  const cfg = trace.session;
  let now = typeof cfg.startTime === 'number' ? cfg.startTime : 1700000000000;
  let ids = 0;
  const session = new Session({
    user: cfg.user as string,
    device: cfg.device as string,
    prefix: (cfg.prefix as string) ?? 'msg',
    cursor: (cfg.cursor as number | null) ?? null,
    pullLimit: (cfg.pullLimit as number) ?? 100,
    retry: (cfg.retry as { initialMs: number; maxMs: number }) ?? { initialMs: 1000, maxMs: 15000 },
    pullTimeoutMs: (cfg.pullTimeoutMs as number) ?? 10000,
    newId: () => `id-${++ids}`,
    pullIdPrefix: 'pull-',
    random: () => 0.5,  // no jitter
  });
  const m = new Matcher();
  const errs: string[] = [];
  trace.steps.forEach((step, i) => {
    const where = `step ${i + 1} (${step.do})`;
    try {
      switch (step.do) {
        case 'connect': session.connectionUp(now); break;
        case 'disconnect': session.connectionDown(now, (step.reason as string) ?? 'test'); break;
        case 'advance': now += step.ms as number; session.tick(now); break;
        case 'receive': {
          let bytes: Uint8Array;
          if (typeof step.raw === 'string') bytes = hex(step.raw);
          else if (step.message) bytes = toBinary(MessageSchema, fromJson(MessageSchema, m.resolve(step.message) as JsonValue));
          else bytes = toBinary(SignalSchema, fromJson(SignalSchema, m.resolve(step.signal) as JsonValue));
          session.receive(step.topic as string, bytes, now);
          break;
        }
        case 'send': {
          const payload = typeof step.text === 'string' ? step.text : hex((step.hex as string) ?? '');
          session.send(step.to as object, payload, (step.options as object) ?? {}, now);
          break;
        }
        case 'markReceived': session.mark({ offset: step.offset as number, id: step.id as string | undefined }, false, now); break;
        case 'markRead': session.mark({ offset: step.offset as number, id: step.id as string | undefined }, true, now); break;
        case 'setActivity': session.setActivity(step.to as object, step.status as 'typing', now); break;
        default: throw new Error(`unknown step ${String(step.do)}`);
      }
    } catch (e) {
      if (step.throws) {
        m.match(`${where} throws`, step.throws, { code: (e as { code?: string }).code ?? null } as Json, errs);
      } else {
        errs.push(`${where}: threw ${String(e)}`);
      }
      return;
    }
    if (step.throws) errs.push(`${where}: want a throw`);
    const actions = session.takeActions();
    const want = (step.expect as Obj | undefined) ?? {};
    const publishes = actions.filter((a): a is Extract<Action, { type: 'publish' }> => a.type === 'publish').map(publishJson);
    const subscribes = actions.filter((a) => a.type === 'subscribe').map((a) => (a as { topics: string[] }).topics);
    const events = actions.filter((a) => a.type === 'event').map((a) => eventJson((a as { event: SessionEvent }).event));
    m.match(`${where} publish`, (want.publish as Json) ?? [], publishes as Json, errs);
    m.match(`${where} subscribe`, (want.subscribe as Json) ?? [], subscribes as Json, errs);
    m.match(`${where} events`, (want.events as Json) ?? [], events as Json, errs);
    if (want.cursor !== undefined) m.match(`${where} cursor`, want.cursor, session.cursor, errs);
    if (want.nextDeadline !== undefined) m.match(`${where} nextDeadline`, want.nextDeadline, session.nextDeadline(), errs);
  });
  return errs;
}
