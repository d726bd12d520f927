// Light-load latency over WebSockets against TCP, in one run on one broker:
// alice sends to bob one message at a time; send→ack is send() until its
// promise resolves (the SENDER ack), send→deliver until bob's device gets
// the message. Both users connect the same way in each round; TCP and
// WebSocket rounds alternate so that the machine's noise hits both alike.
//
//   node dist/bench/latency.js [--plugin PATH] [--out DIR] [--rounds N] [--per-round N]
//
// Writes websockets.md (a table, the ratios and the target) to --out, or
// prints it. Exit status 0 even when the target is missed: the report says
// so; the bench is not a test.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { Client, ChatMessage } from '../src/index.js';
import { startBroker } from '../test/support/broker.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const rounds = Number(arg('rounds', '4'));
const perRound = Number(arg('per-round', '50'));
const gapMs = 10;  // light load: one message in flight, then a pause
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

interface Samples { ack: number[]; deliver: number[] }

async function round(url: string, tag: string, into: Samples): Promise<void> {
  const alice = new Client({ url, user: 'alice', device: `alice-${tag}` });
  const bob = new Client({ url, user: 'bob', device: `bob-${tag}` });
  const waiting = new Map<string, (t: number) => void>();
  bob.on('message', (m: ChatMessage) => waiting.get(m.id)?.(performance.now()));
  await Promise.all([alice.connect(), bob.connect()]);
  await sleep(200);  // both subscribed and synced
  for (let i = 0; i < perRound; i++) {
    const id = `${tag}-${i}`;
    const delivered = new Promise<number>((res) => waiting.set(id, res));
    const start = performance.now();
    await alice.send({ user: 'bob' }, 'x'.repeat(100), { id });
    into.ack.push(performance.now() - start);
    into.deliver.push((await delivered) - start);
    waiting.delete(id);
    await sleep(gapMs);
  }
  await Promise.all([alice.close(), bob.close()]);
}

async function main(): Promise<void> {
  const plugin = arg('plugin', '');
  const broker = await startBroker(plugin ? { plugin } : {});
  const tcp: Samples = { ack: [], deliver: [] };
  const ws: Samples = { ack: [], deliver: [] };
  try {
    for (let r = 0; r < rounds; r++) {
      await round(broker.tcpUrl, `tcp${r}`, tcp);
      await round(broker.wsUrl, `ws${r}`, ws);
    }
  } finally {
    await broker.stop();
  }
  const row = (name: string, s: number[]) => {
    const v = [...s].sort((a, b) => a - b);
    return { name, p50: quantile(v, 0.5), p99: quantile(v, 0.99), max: v[v.length - 1] };
  };
  const fmt = (x: number) => x.toFixed(2);
  const lines = [
    '## WebSockets against TCP (light load)',
    '',
    `${rounds * perRound} messages per transport, one at a time with ${gapMs} ms pauses, ` +
      `100 B, @courier/client (mqtt.js) on both sides, one broker, loopback; ` +
      `TCP and WebSocket rounds of ${perRound} alternate.`,
    '',
    '| path | TCP p50 ms | TCP p99 ms | WS p50 ms | WS p99 ms | WS max ms | WS p99 / TCP p99 |',
    '|---|---|---|---|---|---|---|',
  ];
  let met = true;
  for (const [name, t, w] of [
    ['send → ack', tcp.ack, ws.ack],
    ['send → deliver', tcp.deliver, ws.deliver],
  ] as const) {
    const a = row(name, t);
    const b = row(name, w);
    const ratio = b.p99 / a.p99;
    if (ratio > 2) met = false;
    lines.push(`| ${name} | ${fmt(a.p50)} | ${fmt(a.p99)} | ${fmt(b.p50)} | ${fmt(b.p99)} | ${fmt(b.max)} | ${ratio.toFixed(2)}× |`);
  }
  lines.push('', `Target: WS p99 ≤ 2× TCP p99 on both paths: ${met ? 'met' : 'NOT met'}.`, '');
  const text = lines.join('\n');
  const out = arg('out', '');
  if (out) writeFileSync(join(out, 'websockets.md'), text);
  console.log(text);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
