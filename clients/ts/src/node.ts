// Node-only additions: `import { FileCursorStore } from '@courier/client/node'`.
// Kept out of the main entry so that browsers never see a Node module.
import { promises as fs } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { CourierArgumentError } from './errors.js';
import type { CursorStore } from './cursor.js';

export * from './index.js';

interface CursorRecord {
  user: string;
  device: string;
  cursor: number;
}

/**
 * Keeps one device's cursor in a small JSON file, written atomically (temp
 * file, fsync, rename), so a crash leaves the old or the new value, never a
 * torn one. load() throws CourierArgumentError (code cursor_store) when the
 * file belongs to another user or device, or does not parse.
 */
export class FileCursorStore implements CursorStore {
  private writing: Promise<void> = Promise.resolve();
  private seq = 0;

  constructor(readonly path: string) {}

  async load(user: string, device: string): Promise<number | null> {
    let text: string;
    try {
      text = await fs.readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    let rec: CursorRecord;
    try {
      rec = JSON.parse(text) as CursorRecord;
    } catch {
      throw new CourierArgumentError('cursor_store', `${this.path} is not a cursor file`);
    }
    if (!Number.isInteger(rec.cursor) || rec.cursor < 0) throw new CourierArgumentError('cursor_store', `${this.path} has no valid cursor`);
    if (rec.user !== user || rec.device !== device) {
      throw new CourierArgumentError('cursor_store', `${this.path} belongs to ${rec.user}/${rec.device}, not ${user}/${device}`);
    }
    return rec.cursor;
  }

  /** Saves are serialized: each waits for the one before, so the last value wins. */
  save(user: string, device: string, cursor: number): Promise<void> {
    const run = () => this.write({ user, device, cursor });
    this.writing = this.writing.then(run, run);
    return this.writing;
  }

  private async write(rec: CursorRecord): Promise<void> {
    const tmp = join(dirname(this.path), `.${basename(this.path)}.${process.pid}.${this.seq++}.tmp`);
    const fh = await fs.open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(JSON.stringify(rec) + '\n');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, this.path);
  }
}
