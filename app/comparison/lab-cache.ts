import { createHash } from 'node:crypto';
import { appendFile, mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';

/**
 * The bench's measurements kept on disk between runs (`bench --cache <dir>`): one JSON line
 * per measured (segment, configuration) or gradient sample, in a file named after everything
 * that makes a measurement what it is — the video file (path, size, mtime), the model, the
 * segment length and the analysis frame rate. Changing any of them starts a new file; a
 * re-run of the bench with other policies reuses every measurement already made.
 */
export class LabCache {
  private readonly entries = new Map<string, unknown>();
  private pending: Promise<void> = Promise.resolve();

  private constructor(private readonly file: string) {}

  static async open(dir: string, identity: { video: string; model: string; segmentSeconds: number; analysisFps: number; codeVersion: string }): Promise<LabCache> {
    const st = await stat(identity.video);
    const id = createHash('sha256')
      .update(JSON.stringify({ ...identity, video: path.resolve(identity.video), size: st.size, mtime: st.mtimeMs }))
      .digest('hex')
      .slice(0, 16);
    await mkdir(dir, { recursive: true });
    const cache = new LabCache(path.join(dir, `${path.basename(identity.video).replace(/[^A-Za-z0-9.-]+/g, '_')}-${id}.jsonl`));
    try {
      const text = await readFile(cache.file, 'utf8');
      for (const line of text.split('\n')) {
        if (!line) continue;
        try {
          const { k, v } = JSON.parse(line) as { k: string; v: unknown };
          cache.entries.set(k, v);
        } catch {
          // A line cut short by an interrupted run: that measurement is simply made again.
        }
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    return cache;
  }

  get size(): number {
    return this.entries.size;
  }

  get<T>(key: string): T | undefined {
    return this.entries.get(key) as T | undefined;
  }

  set(key: string, value: unknown): void {
    this.entries.set(key, value);
    const line = JSON.stringify({ k: key, v: value }) + '\n';
    this.pending = this.pending.then(() => appendFile(this.file, line));
  }

  /** Waits for every line to reach the file. */
  flush(): Promise<void> {
    return this.pending;
  }
}

export const float32ToBase64 = (a: Float32Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

export function base64ToFloat32(s: string): Float32Array {
  const b = Buffer.from(s, 'base64');
  const out = new Float32Array(b.length / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}
