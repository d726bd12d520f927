// Test harness: runs a real Mosquitto with the Courier plugin on loopback.
//
//   const b = await startBroker({ httpDir?, options?: { rate_limit_per_s: '5' } });
//   b.tcpUrl  // mqtt://127.0.0.1:<port>
//   b.wsUrl   // ws://127.0.0.1:<port>   (http://... serves httpDir when given)
//   await b.stop();
//
// It writes a temp dir with mosquitto.conf and the LMDB store, picks free
// loopback ports, starts `/usr/sbin/mosquitto -c conf` (MOSQUITTO to
// override) as a child process, waits until both ports accept, and kills it
// by pid in stop(). Brokers still running when the process exits are killed
// too, so a failed test leaves none behind. The plugin is COURIER_PLUGIN, or
// ../../build/plugin/mosquitto_courier.so relative to clients/ts.
// Node only; imports nothing from the library.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface BrokerOptions {
  /** Serve this directory over HTTP on the websockets listener. */
  httpDir?: string;
  /** Extra plugin options: { name: value } becomes `plugin_opt_<name> <value>`. */
  options?: Record<string, string | number | boolean>;
  /** Plugin path; default env COURIER_PLUGIN, else the build tree's. */
  plugin?: string;
  /** Give up waiting for the ports after this long; default 10 s. */
  startTimeoutMs?: number;
}

export interface Broker {
  tcpPort: number;
  wsPort: number;
  tcpUrl: string;
  wsUrl: string;
  dir: string;
  pid: number;
  /** Everything the broker wrote to stdout/stderr so far. */
  log(): string;
  stop(): Promise<void>;
}

// clients/ts, whether this runs as test/support/broker.ts or dist/test/support/broker.js.
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

export function pluginPath(): string {
  return process.env.COURIER_PLUGIN || resolve(packageRoot(), '../../build/plugin/mosquitto_courier.so');
}

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.unref();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((res) => {
    const sock = connect({ host: '127.0.0.1', port });
    sock.once('connect', () => { sock.destroy(); res(true); });
    sock.once('error', () => res(false));
  });
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of running) if (c.pid) try { process.kill(c.pid, 'SIGKILL'); } catch { /* gone */ }
});

export async function startBroker(o: BrokerOptions = {}): Promise<Broker> {
  const plugin = o.plugin ?? pluginPath();
  if (!existsSync(plugin)) throw new Error(`Courier plugin not found at ${plugin}; set COURIER_PLUGIN`);
  const dir = mkdtempSync(join(tmpdir(), 'courier-ts-'));
  const tcpPort = await freePort();
  let wsPort = await freePort();
  while (wsPort === tcpPort) wsPort = await freePort();
  const lines = [
    'per_listener_settings false',
    `listener ${tcpPort} 127.0.0.1`,
    'set_tcp_nodelay true',
    `listener ${wsPort} 127.0.0.1`,
    'protocol websockets',
    'socket_domain ipv4',
    ...(o.httpDir ? [`http_dir ${o.httpDir}`] : []),
    'allow_anonymous true',
    'persistence false',
    'log_dest stdout',
    `plugin ${plugin}`,
    `plugin_opt_db_path ${join(dir, 'db')}`,
    ...Object.entries(o.options ?? {}).map(([k, v]) => `plugin_opt_${k} ${String(v)}`),
  ];
  if (process.getuid?.() === 0) lines.push('user root');
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, lines.join('\n') + '\n');

  let output = '';
  const child = spawn(process.env.MOSQUITTO || '/usr/sbin/mosquitto', ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.stdout!.on('data', (d) => { output += d; });
  child.stderr!.on('data', (d) => { output += d; });
  let exited = false;
  const exit = new Promise<void>((res) => child.once('exit', () => { exited = true; running.delete(child); res(); }));

  const stop = async () => {
    if (!exited && child.pid) {
      process.kill(child.pid, 'SIGTERM');
      const timer = setTimeout(() => { if (!exited && child.pid) process.kill(child.pid, 'SIGKILL'); }, 3000);
      await exit;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (o.startTimeoutMs ?? 10000);
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`mosquitto exited at start:\n${output}`);
    }
    if ((await accepts(tcpPort)) && (await accepts(wsPort))) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`mosquitto did not listen within the timeout:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    tcpPort, wsPort, dir, pid: child.pid!,
    tcpUrl: `mqtt://127.0.0.1:${tcpPort}`,
    wsUrl: `ws://127.0.0.1:${wsPort}`,
    log: () => output,
    stop,
  };
}
