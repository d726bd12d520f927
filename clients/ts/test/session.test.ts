// Unit tests of the sans-I/O core beyond the conformance traces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Session, type Action } from '../src/session.js';
import { Sequencer } from '../src/sequencer.js';
import { backoffDelay } from '../src/backoff.js';
import { CourierArgumentError } from '../src/errors.js';
import { MemoryCursorStore, LocalStorageCursorStore } from '../src/cursor.js';

const T = 1_700_000_000_000;
const events = (as: Action[]) => as.filter((a) => a.type === 'event').map((a) => (a as { event: { type: string } }).event);
const publishes = (as: Action[]) => as.filter((a) => a.type === 'publish');

function session(extra = {}) {
  return new Session({ user: 'alice', device: 'a1', cursor: 0, random: () => 0.5, pullIdPrefix: 'p', ...extra });
}

test('backoff doubles up to the max, with jitter in [0.8, 1.2)', () => {
  const b = { initialMs: 1000, maxMs: 15000 };
  assert.deepEqual([0, 1, 2, 3, 4, 10].map((n) => backoffDelay(b, n, () => 0.5)), [1000, 2000, 4000, 8000, 15000, 15000]);
  assert.equal(backoffDelay(b, 0, () => 0), 800);
  assert.ok(backoffDelay(b, 0, () => 0.999) <= 1200);
});

test('invalid arguments throw CourierArgumentError and publish nothing', () => {
  const s = session();
  s.connectionUp(T);
  s.takeActions();
  const cases: [object, string | Uint8Array, object, string][] = [
    [{}, 'x', {}, 'missing_recipient'],
    [{ user: 'b', group: 'g' }, 'x', {}, 'invalid_recipient'],
    [{ user: 'b#' }, 'x', {}, 'invalid_recipient'],
    [{ user: 'x'.repeat(129) }, 'x', {}, 'invalid_recipient'],
    [{ user: 'b' }, new Uint8Array(65537), {}, 'payload_too_large'],
    [{ user: 'b' }, 'x', { id: 'i'.repeat(129) }, 'id_too_long'],
    [{ user: 'b' }, 'x', { expiry: -1 }, 'invalid_argument'],
    [{ user: 'b' }, 'x', { recall: true }, 'invalid_edit'],
    [{ user: 'b' }, 'x', { replaces: 'a', recall: true }, 'recall_has_content'],
  ];
  for (const [to, payload, opts, code] of cases) {
    assert.throws(() => s.send(to, payload, opts, T), (e) => e instanceof CourierArgumentError && e.code === code, code);
  }
  assert.throws(() => s.setActivity({ user: 'b' }, 'dancing' as 'typing', T), { code: 'invalid_status' });
  assert.throws(() => s.mark({ offset: 0 }, false, T), { code: 'invalid_argument' });
  assert.deepEqual(s.takeActions(), []);
  s.send({ user: 'b' }, 'x', { id: 'same' }, T);
  assert.throws(() => s.send({ user: 'b' }, 'y', { id: 'same' }, T), { code: 'id_pending' });
  assert.throws(() => new Session({ user: '', device: 'd' }), CourierArgumentError);
});

test('a payload of exactly the limit is accepted', () => {
  const s = session();
  assert.equal(typeof s.send({ user: 'b' }, new Uint8Array(65536), {}, T), 'string');
});

test('send timeout rejects with timeout; close rejects the rest with closed', () => {
  const s = session();
  s.send({ user: 'b' }, 'x', { id: 'a', timeout: 5000 }, T);
  s.send({ user: 'b' }, 'y', { id: 'b' }, T);
  assert.equal(s.nextDeadline(), T + 5000);  // offline: only the give-up time
  s.tick(T + 5000);
  assert.deepEqual(events(s.takeActions()).map((e) => [e.type, (e as { id?: string }).id]), [['sendRejected', 'a']]);
  s.close();
  const ev = events(s.takeActions()) as { type: string; error?: { code: string } }[];
  assert.deepEqual(ev.map((e) => [e.type, e.error?.code]), [['sendRejected', 'closed']]);
  assert.equal(s.pendingSends, 0);
});

test('pull timeout pulls again from the cursor', () => {
  const s = session({ pullTimeoutMs: 3000 });
  s.connectionUp(T);
  assert.equal(publishes(s.takeActions()).length, 1);
  assert.equal(s.nextDeadline(), T + 3000);
  s.tick(T + 3000);
  assert.equal(publishes(s.takeActions()).length, 1);
});

test('cursor actions report each new in-order cursor once', () => {
  const s = session();
  s.restoreCursor(7);  // ignored: the cursor is known
  assert.equal(s.cursor, 0);
  const u = new Session({ user: 'u', device: 'd' });
  u.restoreCursor(4);
  assert.equal(u.cursor, 4);
  assert.deepEqual(u.takeActions(), []);
});

test('sequencer without a cursor buffers until the first pull response fixes it', () => {
  const q = new Sequencer<{ offset: number; pulled: boolean }>(null, 'p');
  const o = q.startSync('server');
  assert.equal(o.after, -1);
  assert.deepEqual(q.onEntry({ offset: 5, pulled: false }).delivered, []);
  q.onEntry({ offset: 4, pulled: true });
  const r = q.onPullResponse(o.id, 5, 1);
  assert.deepEqual(r.delivered.map((e) => e.offset), [4, 5]);
  assert.equal(r.synced, true);
  assert.equal(q.cursor, 5);
});

test('sequencer resets to the head when the server is behind the cursor', () => {
  const q = new Sequencer<{ offset: number; pulled: boolean }>(10, 'p');
  const o = q.startSync('server');
  const r = q.onPullResponse(o.id, 3, 0);
  assert.equal(r.resetFrom, 10);
  assert.equal(q.cursor, 3);
});

test('cursor stores keep one cursor per user and device', () => {
  const m = new MemoryCursorStore();
  m.save('u', 'd', 3);
  assert.equal(m.load('u', 'd'), 3);
  assert.equal(m.load('u', 'e'), null);
  const data = new Map<string, string>();
  const l = new LocalStorageCursorStore({ getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v) });
  assert.equal(l.load('u', 'd'), null);
  l.save('u', 'd', 9);
  assert.equal(l.load('u', 'd'), 9);
});
