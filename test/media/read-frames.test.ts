import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createFfmpegMedia } from '../../src/media/ffmpeg.js';
import type { RawFrame } from '../../src/media/types.js';
import { DASHCAM, HIGHWAY, missingFootage } from '../support/footage.js';

const media = createFfmpegMedia();

async function collect(frames: AsyncIterable<RawFrame>): Promise<RawFrame[]> {
  const out: RawFrame[] = [];
  for await (const frame of frames) out.push(frame);
  return out;
}

function childFfmpegCount(): number {
  const out = execFileSync('ps', ['--ppid', String(process.pid), '-o', 'comm='], { encoding: 'utf8' });
  return out.split('\n').filter((name) => name.trim() === 'ffmpeg').length;
}

describe.skipIf(missingFootage(HIGHWAY, DASHCAM))('readFrames (real ffmpeg)', () => {
  it('resamples to the requested fps at the native size', async () => {
    const frames = await collect(media.readFrames(HIGHWAY, { fps: 10, durationS: 1 }));
    expect(frames).toHaveLength(10);
    for (const frame of frames) {
      expect(frame).toMatchObject({ width: 320, height: 240 });
      expect(frame.data.length).toBe(320 * 240 * 3);
    }
    // Real picture content, not a blank buffer.
    expect(new Set(frames[0].data.subarray(0, 3000)).size).toBeGreaterThan(20);
  });

  it('seeks, scales and keeps the aspect ratio when only the width is given', async () => {
    const frames = await collect(media.readFrames(DASHCAM, { fps: 5, width: 480, startS: 2, durationS: 1 }));
    expect(frames).toHaveLength(5);
    expect(frames[0]).toMatchObject({ width: 480, height: 270 });
    expect(frames[0].data.length).toBe(480 * 270 * 3);
  });

  it('scales to an explicit size', async () => {
    const frames = await collect(media.readFrames(HIGHWAY, { fps: 25, width: 64, height: 48, durationS: 0.4 }));
    expect(frames).toHaveLength(10);
    expect(frames.every((f) => f.width === 64 && f.height === 48 && f.data.length === 64 * 48 * 3)).toBe(true);
  });

  it('stops ffmpeg when the consumer stops early', async () => {
    let seen = 0;
    const started = Date.now();
    for await (const _frame of media.readFrames(HIGHWAY, { fps: 25 })) {
      if (++seen === 3) break;
    }
    expect(seen).toBe(3);
    // The whole 30 s source was not decoded.
    expect(Date.now() - started).toBeLessThan(5_000);
    for (let i = 0; i < 50 && childFfmpegCount() > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(childFfmpegCount()).toBe(0);
  });

  it('rejects the iteration for sources that cannot be read', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'read-frames-test-'));
    try {
      await expect(collect(media.readFrames(join(dir, 'absent.avi'), { fps: 5 }))).rejects.toThrow('video not found:');
      const text = join(dir, 'text.mp4');
      await writeFile(text, 'not a video');
      await expect(collect(media.readFrames(text, { fps: 5 }))).rejects.toThrow('not a readable video:');
      await expect(collect(media.readFrames(HIGHWAY, { fps: 0 }))).rejects.toThrow('fps must be a positive number');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('surfaces ffmpeg failures as a rejected iteration quoting its stderr', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'read-frames-test-'));
    try {
      // The container index survives but the first picture is cut: ffprobe passes, ffmpeg fails.
      const frames = await collect(media.readFrames(HIGHWAY, { fps: 10, durationS: 0.5 }));
      const segment = (await media.encodeFrames(frames, 10, { qp: 20, width: 320, height: 240, fps: 10 })).data;
      const path = join(dir, 'cut.mp4');
      await writeFile(path, segment.subarray(0, segment.indexOf('mdat') + 200));
      await expect(collect(media.readFrames(path, { fps: 10 }))).rejects.toThrow(
        new RegExp(`^ffmpeg decode of ${path} failed: .*partial file`),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('names a missing ffmpeg binary', async () => {
    const broken = createFfmpegMedia({ ffmpegPath: '/nonexistent/ffmpeg' });
    await expect(collect(broken.readFrames(HIGHWAY, { fps: 5, durationS: 0.2 }))).rejects.toThrow(
      'ffmpeg not found at /nonexistent/ffmpeg',
    );
  });

  it('yields nothing for a seek past the end', async () => {
    expect(await collect(media.readFrames(HIGHWAY, { fps: 5, startS: 100 }))).toHaveLength(0);
  });
});
