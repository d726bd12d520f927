// Replays every conformance trace in clients/conformance/*.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { replay, type Trace } from './support/trace.js';

let root = dirname(fileURLToPath(import.meta.url));
while (!existsSync(join(root, 'package.json'))) root = dirname(root);
const dir = resolve(root, '../conformance');
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

test('there are conformance traces', () => assert.ok(files.length >= 8, `only ${files.length} traces in ${dir}`));

for (const f of files) {
  const trace = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Trace;
  test(`trace ${f}: ${trace.name}`, () => {
    const errs = replay(trace);
    assert.deepEqual(errs, []);
  });
}
