// Type-checks, then builds the page into dist/: index.html, app.js (one classic script: Mosquitto's
// http_dir sends no Content-Type, which module scripts would need) and style.css.
// Fails when a Node-only module reaches the bundle.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
if (!existsSync(join(here, 'node_modules/@courier/client/dist/src/index.js'))) {
  console.error('build: @courier/client is not built: run `npm ci && npm run build` in clients/ts first');
  process.exit(1);
}
// Type errors fail the build (esbuild only strips types).
try {
  execFileSync(join(here, 'node_modules/.bin/tsc'), ['-p', here], { stdio: 'inherit' });
} catch {
  process.exit(1);
}
const dist = join(here, 'dist');
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist);

const result = await build({
  entryPoints: [join(here, 'src/main.ts')],
  outfile: join(dist, 'app.js'),
  bundle: true,
  platform: 'browser',
  format: 'iife',
  target: ['chrome110', 'firefox110', 'safari16'],
  minify: true,
  sourcemap: false,
  metafile: true,
  logLevel: 'warning',
});

// A Node builtin in the bundle would break in the browser, or show that a
// package's browser build was not picked.
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const offenders = [];
for (const [file, input] of Object.entries(result.metafile.inputs)) {
  for (const imp of input.imports) {
    if (builtins.has(imp.path) || imp.path.startsWith('node:')) offenders.push(`${file} imports ${imp.path}`);
  }
}
if (offenders.length) {
  console.error('build: Node-only modules in the browser bundle:\n  ' + offenders.join('\n  '));
  process.exit(1);
}

copyFileSync(join(here, 'src/index.html'), join(dist, 'index.html'));
copyFileSync(join(here, 'src/style.css'), join(dist, 'style.css'));
const size = result.metafile.outputs[Object.keys(result.metafile.outputs)[0]].bytes;
console.log(`build: dist/app.js ${(size / 1024).toFixed(1)} KiB, index.html, style.css`);
