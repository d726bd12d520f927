// Integration tests against a real Mosquitto with the Courier plugin, over
// TCP and WebSockets (test/support/broker.ts). No timing assertions: the
// broker adds latency to WebSocket deliveries.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as mqttConnect, type MqttClient } from 'mqtt';
import { Client, CourierArgumentError, CourierError, type ChatMessage, type ClientOptions, type Receipt, type SendResult } from '../src/index.js';
import { FileCursorStore } from '../src/node.js';
import { startBroker, type Broker } from './support/broker.js';

let broker: Broker;
const clients: Client[] = [];
let userSeq = 0;
const uniq = (name: string) => `${name}${++userSeq}`;
// A device is an MQTT client id, which Mosquitto keeps unique per broker:
// a second connection with the same id closes the first.
const dev = (name: string) => `${name}-${++userSeq}`;

function client(o: ClientOptions): Client {
  const c = new Client({ reconnectPeriod: 200, ...o });
  clients.push(c);
  return c;
}

/** Resolves when `pred` holds, checked now and after every event `name` of `c`. */
function until<T>(c: Client, name: 'message' | 'receipt' | 'activity' | 'error' | 'synced', pred: () => T | undefined | false, ms = 10000): Promise<T> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const v = pred();
      if (v) {
        c.off(name, check);
        clearTimeout(timer);
        resolve(v as T);
      }
    };
    const timer = setTimeout(() => {
      c.off(name, check);
      reject(new Error(`timed out waiting on ${name}: ${String(pred)}`));
    }, ms);
    c.on(name, check);
    check();
  });
}

function rawClient(url: string, user: string, id: string): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const m = mqttConnect(url, { clientId: id, username: user, protocolVersion: 5, reconnectPeriod: 0 });
    m.once('connect', () => resolve(m));
    m.once('error', reject);
  });
}

before(async () => {
  broker = await startBroker({ options: { admin_users: 'admin' } });
});

after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await broker?.stop();
});

for (const transport of ['tcp', 'ws'] as const) {
  describe(`over ${transport}`, () => {
    const url = () => (transport === 'tcp' ? broker.tcpUrl : broker.wsUrl);

    test('alice to bob: both of bob\'s devices get every message once, in order; ticks go sent, delivered, read', async () => {
      const alice = uniq('alice'), bob = uniq('bob');
      const aliceDevice = dev('a1');
      const a = client({ url: url(), user: alice, device: aliceDevice });
      const b1 = client({ url: url(), user: bob, device: dev('b1') });
      const b2 = client({ url: url(), user: bob, device: dev('b2') });
      const got1: ChatMessage[] = [], got2: ChatMessage[] = [];
      b1.on('message', (m) => got1.push(m));
      b2.on('message', (m) => got2.push(m));
      const receipts: Receipt[] = [];
      a.on('receipt', (r) => receipts.push(r));
      await Promise.all([a.connect(), b1.connect(), b2.connect()]);

      const results: SendResult[] = [];
      for (const text of ['one', 'two', 'three']) results.push(await a.send({ user: bob }, text));
      assert.deepEqual(results.map((r) => r.offset), [1, 2, 3]);
      assert.deepEqual(results.map((r) => r.userOffset), [1, 2, 3]);
      await until(b1, 'message', () => got1.length >= 3);
      await until(b2, 'message', () => got2.length >= 3);
      for (const got of [got1, got2]) {
        assert.deepEqual(got.map((m) => m.offset), [1, 2, 3]);
        assert.deepEqual(got.map((m) => m.text()), ['one', 'two', 'three']);
        assert.ok(got.every((m) => m.kind === 'receiver' && m.from.user === alice && m.from.device === aliceDevice));
      }
      assert.ok(receipts.some((r) => r.kind === 'sender' && r.offset === 1 && r.state.sent));

      b1.markReceived(got1[0]);
      await until(a, 'receipt', () => receipts.find((r) => r.kind === 'receiver' && r.id === results[0].id && r.state.received && !r.state.read));
      b2.markRead(got2[0]);
      const read = await until(a, 'receipt', () => receipts.find((r) => r.kind === 'receiver' && r.id === results[0].id && r.state.read));
      assert.equal(read.from.user, bob);
      assert.equal(read.offset, results[0].offset);
    });

    test('activity reaches the other user', async () => {
      const alice = uniq('alice'), bob = uniq('bob');
      const a = client({ url: url(), user: alice, device: dev('a1') });
      const b = client({ url: url(), user: bob, device: dev('b1') });
      await Promise.all([a.connect(), b.connect()]);
      const seen: string[] = [];
      b.on('activity', (x) => { if (x.from.user === alice) seen.push(x.status); });
      // Activity is fire-and-forget: repeat until one arrives.
      const got = until(b, 'activity', () => seen.includes('typing'));
      const timer = setInterval(() => a.setActivity({ user: bob }, 'typing'), 200);
      assert.equal(a.setActivity({ user: bob }, 'typing'), true);
      try {
        await got;
      } finally {
        clearInterval(timer);
      }
    });
  });
}

test('own sends are in the sender\'s stream as DEVICE entries; other devices get the copy', async () => {
  const alice = uniq('alice'), bob = uniq('bob');
  const a1 = client({ url: broker.tcpUrl, user: alice, device: dev('a1') });
  const a2 = client({ url: broker.wsUrl, user: alice, device: dev('a2') });
  const m1: ChatMessage[] = [], m2: ChatMessage[] = [];
  a1.on('message', (m) => m1.push(m));
  a2.on('message', (m) => m2.push(m));
  await Promise.all([a1.connect(), a2.connect()]);
  const r = await a1.send({ user: bob }, 'note');
  await until(a1, 'message', () => m1.length >= 1);
  await until(a2, 'message', () => m2.length >= 1);
  for (const got of [m1, m2]) {
    assert.equal(got.length, 1);
    assert.equal(got[0].kind, 'device');
    assert.equal(got[0].offset, r.offset);
    assert.equal(got[0].text(), 'note');
  }
});

test('offline receiver syncs from its file cursor after reconnecting', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'courier-cursor-'));
  try {
    const alice = uniq('alice'), bob = uniq('bob');
    const store = new FileCursorStore(join(dir, 'bob.cursor'));
    const bobDevice = dev('b1');
    const a = client({ url: broker.tcpUrl, user: alice, device: dev('a1') });
    await a.connect();
    let b = client({ url: broker.tcpUrl, user: bob, device: bobDevice, cursorStore: store });
    const first: ChatMessage[] = [];
    b.on('message', (m) => first.push(m));
    await b.connect();
    await a.send({ user: bob }, 'before');
    await until(b, 'message', () => first.length >= 1);
    await b.close();
    assert.equal(await store.load(bob, bobDevice), 1);

    await a.send({ user: bob }, 'while away 1');
    await a.send({ user: bob }, 'while away 2');
    b = client({ url: broker.wsUrl, user: bob, device: bobDevice, cursorStore: store });
    const later: ChatMessage[] = [];
    b.on('message', (m) => later.push(m));
    const synced = until(b, 'synced', () => later.length >= 2);
    await b.connect();
    await synced;
    assert.deepEqual(later.map((m) => [m.offset, m.text(), m.pulled]), [[2, 'while away 1', true], [3, 'while away 2', true]]);
    await b.close();
    assert.equal(await store.load(bob, bobDevice), 3);
    await assert.rejects(new FileCursorStore(join(dir, 'bob.cursor')).load(bob, 'other'), { code: 'cursor_store' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('group send reaches every other member', async () => {
  const alice = uniq('alice'), bob = uniq('bob'), carol = uniq('carol'), group = uniq('g');
  const admin = await rawClient(broker.tcpUrl, 'admin', uniq('admin'));
  try {
    await new Promise<void>((resolve, reject) => {
      admin.subscribe('$CONTROL/courier/v1/response', (err) => {
        if (err) return reject(err);
        admin.on('message', (_t, p) => {
          const reply = JSON.parse(p.toString());
          if (reply.responses?.[0]?.error) reject(new Error(reply.responses[0].error));
          else resolve();
        });
        admin.publish('$CONTROL/courier/v1', JSON.stringify({ commands: [{ command: 'createGroup', group, members: [alice, bob, carol], correlationData: '1' }] }));
      });
    });
  } finally {
    admin.end(true);
  }
  const a = client({ url: broker.tcpUrl, user: alice, device: dev('a1') });
  const b = client({ url: broker.wsUrl, user: bob, device: dev('b1') });
  const c = client({ url: broker.tcpUrl, user: carol, device: dev('c1') });
  const gotB: ChatMessage[] = [], gotC: ChatMessage[] = [];
  b.on('message', (m) => gotB.push(m));
  c.on('message', (m) => gotC.push(m));
  await Promise.all([a.connect(), b.connect(), c.connect()]);
  const r = await a.send({ group }, 'hello group');
  assert.equal(r.userOffset, 1);
  await until(b, 'message', () => gotB.length >= 1);
  await until(c, 'message', () => gotC.length >= 1);
  for (const got of [gotB, gotC]) {
    assert.equal(got[0].to.group, group);
    assert.equal(got[0].text(), 'hello group');
  }
  await assert.rejects(a.send({ group: uniq('nogroup') }, 'x'), (e: CourierError) => e.code === 'unknown_group' && e.permanent);
});

test('invalid arguments are rejected before publishing; a permanent server error rejects with its code', async () => {
  const a = client({ url: broker.tcpUrl, user: uniq('alice'), device: dev('a1') });
  await a.connect();
  await assert.rejects(a.send({ user: 'a/b' }, 'x'), (e) => e instanceof CourierArgumentError && e.code === 'invalid_recipient');
  await assert.rejects(a.send({ user: 'bob' }, new Uint8Array(65537)), (e) => e instanceof CourierArgumentError && e.code === 'payload_too_large');
  // The server refuses a timestamp more than a day ahead of its clock.
  await assert.rejects(a.send({ user: 'bob' }, 'x', { timestamp: Date.now() + 3 * 86400_000 }), (e: CourierError) => e.code === 'invalid_timestamp');
  assert.throws(() => new Client({ url: broker.tcpUrl, user: '', device: 'd' }), CourierArgumentError);
});

test('malformed publish on the client\'s topic is an error event, and the client goes on', async () => {
  // Courier's ACL lets only the plugin publish to inbox topics, so this
  // client uses a prefix outside the plugin's (`raw`), where the broker
  // allows anyone to publish.
  const user = uniq('mal');
  const c = client({ url: broker.tcpUrl, user, device: dev('d1'), prefix: 'raw', pullTimeoutMs: 60000 });
  const errors: CourierError[] = [];
  c.on('error', (e) => errors.push(e));
  await c.connect();
  const raw = await rawClient(broker.tcpUrl, 'someone', uniq('raw'));
  try {
    raw.publish(`raw/${user}/inbox`, Buffer.from([0xff, 0xff, 0xff, 0xff]), { qos: 1 });
    await until(c, 'error', () => errors.find((e) => e.code === 'malformed_publish'));
  } finally {
    raw.end(true);
  }
});

test('transient error (quota_exceeded) is retried with the same id until accepted', async () => {
  const b2 = await startBroker({ options: { max_undelivered: 1 } });
  const local: Client[] = [];
  try {
    const alice = uniq('alice'), carol = uniq('carol');
    const a = new Client({ url: b2.tcpUrl, user: alice, device: dev('a1'), retry: { initialMs: 100, maxMs: 300 } });
    local.push(a);
    await a.connect();
    const first = await a.send({ user: carol }, 'first');
    const second = a.send({ user: carol }, 'second', { id: 'second-id' });
    // Give the server time to refuse it at least once, then let carol catch up.
    await new Promise((r) => setTimeout(r, 400));
    const c = new Client({ url: b2.wsUrl, user: carol, device: dev('c1') });
    local.push(c);
    c.on('message', (m) => c.markReceived(m));
    await c.connect();
    const r = await second;
    assert.equal(r.id, 'second-id');
    assert.equal(r.offset, first.offset + 1);
    assert.ok(r.attempts >= 2, `attempts ${r.attempts}`);
  } finally {
    await Promise.all(local.map((c) => c.close()));
    await b2.stop();
  }
});
