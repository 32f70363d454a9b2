import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sweepTempDirs } from '../../src/media/temp-dir.js';

describe('temp dirs', () => {
  it('are swept when the process that made them is gone, and kept while it lives', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'sweep-root-'));
    try {
      // pid 4194305 is above Linux's largest pid: no such process.
      for (const name of ['oneadapt-media-4194305-abc', 'oneadapt-ingest-4194305-def', `oneadapt-media-${process.pid}-ghi`, 'oneadapt-s3-xyz', 'other-dir']) await mkdir(path.join(root, name));
      expect(await sweepTempDirs(root)).toBe(2);
      expect((await readdir(root)).sort()).toEqual([`oneadapt-media-${process.pid}-ghi`, 'oneadapt-s3-xyz', 'other-dir']);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
