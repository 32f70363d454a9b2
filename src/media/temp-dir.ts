import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Temp dirs carry the pid of the process that made them, so that one killed with SIGKILL
// (which cannot clean up) leaves dirs a later start can recognise as orphans and remove.
const OWNED = /^oneadapt-(media|ingest)-(\d+)-/;

/** A fresh temp dir named for its kind and this process. */
export function makeTempDir(kind: 'media' | 'ingest'): Promise<string> {
  return mkdtemp(join(tmpdir(), `oneadapt-${kind}-${process.pid}-`));
}

/** Runs `use` with a fresh temp directory that is removed afterwards, whatever happens. */
export async function withTempDir<T>(use: (dir: string) => Promise<T>): Promise<T> {
  const dir = await makeTempDir('media');
  try {
    return await use(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the temp dirs of processes that are gone; returns how many. */
export async function sweepTempDirs(root = tmpdir()): Promise<number> {
  let removed = 0;
  for (const name of await readdir(root).catch(() => [])) {
    const m = OWNED.exec(name);
    if (!m || alive(Number(m[2]))) continue;
    await rm(join(root, name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}
