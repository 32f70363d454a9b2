import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createFfmpegMedia } from '../../src/media/ffmpeg.js';
import { FfmpegUnavailableError, UndecodableSegmentError } from '../../src/media/ffmpeg-run.js';
import { trackScenarios } from './checker.js';

trackScenarios();

// The worker fails a segment for good only when the bytes are bad; a missing or killed ffmpeg
// is the machine's fault and must come out as another class, so that the job is retried.
describe('media failures are classified by what failed', () => {
  const media = createFfmpegMedia();
  let segment: Buffer;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'oneadapt-ffclass-'));
    const frame = { width: 64, height: 48, data: new Uint8Array(64 * 48 * 3).fill(90) };
    segment = (await media.encodeFrames([frame, frame, frame], 10, { qp: 24, width: 64, height: 48, fps: 10 })).data;
  });

  it('bad bytes: UndecodableSegmentError', async () => {
    await expect(media.decodeMany([Buffer.alloc(0)], { width: 64, height: 48 })).rejects.toBeInstanceOf(UndecodableSegmentError);
    await expect(media.decodeMany([segment.subarray(0, 40)], { width: 64, height: 48 })).rejects.toBeInstanceOf(UndecodableSegmentError);
    expect((await media.decodeMany([segment], { width: 64, height: 48 }))[0]).toHaveLength(3);
  });

  it('an ffmpeg killed by a signal (as by the OOM killer): FfmpegUnavailableError', async () => {
    const killed = path.join(dir, 'ffmpeg-killed');
    await writeFile(killed, '#!/bin/sh\nkill -9 $$\n');
    await chmod(killed, 0o755);
    const err = await createFfmpegMedia({ ffmpegPath: killed }).decodeMany([segment], { width: 64, height: 48 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FfmpegUnavailableError);
    expect((err as Error).message).toMatch(/SIGKILL/);
  });
});
