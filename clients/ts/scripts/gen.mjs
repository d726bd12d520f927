// Generates TypeScript types and codecs for ../../proto/messaging.proto into
// gen/ (git-ignored) with protoc (PROTOC, default: protoc on PATH, Debian's
// /usr/bin/protoc 3.21 works) and @bufbuild/protoc-gen-es.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const protoDir = resolve(root, '../../proto');
const out = join(root, 'gen');
const plugin = join(root, 'node_modules/.bin/protoc-gen-es');
const protoc = process.env.PROTOC || 'protoc';

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
execFileSync(protoc, [
  `--plugin=protoc-gen-es=${plugin}`,
  `--es_out=${out}`,
  '--es_opt=target=ts,import_extension=js',
  `-I${protoDir}`,
  join(protoDir, 'messaging.proto'),
], { stdio: 'inherit' });
