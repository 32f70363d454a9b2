import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createFfmpegMedia } from '../../src/media/ffmpeg.js';
import type { EncodeSettings, RawFrame } from '../../src/media/types.js';
import { HIGHWAY, missingFootage } from '../support/footage.js';

const media = createFfmpegMedia();

function meanAbsDiff(a: RawFrame, b: RawFrame): number {
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) sum += Math.abs(a.data[i] - b.data[i]);
  return sum / a.data.length;
}

async function keyframeFlags(segment: Buffer): Promise<number[]> {
  const dir = await mkdtemp(join(tmpdir(), 'encode-test-'));
  try {
    const path = join(dir, 'segment.mp4');
    await writeFile(path, segment);
    const args = ['-v', 'error', '-select_streams', 'v', '-show_entries', 'frame=key_frame', '-of', 'json', path];
    const report = JSON.parse(execFileSync('ffprobe', args, { encoding: 'utf8' })) as { frames: { key_frame: number }[] };
    return report.frames.map((frame) => frame.key_frame);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe.skipIf(missingFootage(HIGHWAY))('encodeFrames / decodeSegment (real ffmpeg)', () => {
  let frames: RawFrame[];
  const full: EncodeSettings = { qp: 20, width: 320, height: 240, fps: 10 };

  beforeAll(async () => {
    frames = [];
    for await (const frame of media.readFrames(HIGHWAY, { fps: 10, durationS: 1 })) frames.push(frame);
    expect(frames).toHaveLength(10);
  });

  it.each([
    [10, 10],
    [5, 5],
    [2, 2],
    [3, 3],
  ])('encodes 10 frames at 10 fps → %i fps as exactly %i frames', async (fps, expected) => {
    const segment = await media.encodeFrames(frames, 10, { ...full, qp: 30, fps });
    const decoded = await media.decodeSegment(segment.data);
    expect(decoded).toHaveLength(expected);
    expect(segment.ms).toBeGreaterThan(0);
  });

  it('keeps round(frames × fps / inputFps) frames for other rates, and at least one', async () => {
    const count = async (input: RawFrame[], inputFps: number, fps: number) =>
      (await media.decodeSegment((await media.encodeFrames(input, inputFps, { ...full, qp: 35, fps })).data)).length;
    expect(await count(frames.slice(0, 7), 25, 10)).toBe(3);
    expect(await count(frames.slice(0, 1), 10, 1)).toBe(1);
  });

  it('makes one self-contained GOP per segment', async () => {
    const segment = await media.encodeFrames(frames, 10, full);
    expect(await keyframeFlags(segment.data)).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('decodes close to the original picture at low qp, channels in order', async () => {
    const decoded = await media.decodeSegment((await media.encodeFrames(frames, 10, full)).data);
    expect(decoded[0]).toMatchObject({ width: 320, height: 240 });
    expect(meanAbsDiff(decoded[0], frames[0])).toBeLessThan(4);
    expect(meanAbsDiff(decoded[9], frames[9])).toBeLessThan(4);
    // Channel order matters for the models: swapping R and B must make it clearly worse.
    const swapped = Uint8Array.from(frames[0].data, (_, i) => frames[0].data[i - (i % 3) + (2 - (i % 3))]);
    expect(meanAbsDiff(decoded[0], { ...frames[0], data: swapped })).toBeGreaterThan(meanAbsDiff(decoded[0], frames[0]) * 1.5);
  });

  it('spends fewer bytes at higher qp and at lower resolution', async () => {
    const size = async (s: EncodeSettings) => (await media.encodeFrames(frames, 10, s)).data.length;
    const [q20, q30, q40] = [await size(full), await size({ ...full, qp: 30 }), await size({ ...full, qp: 40 })];
    expect(q20).toBeGreaterThan(q30);
    expect(q30).toBeGreaterThan(q40);
    expect(await size({ ...full, qp: 30, width: 160, height: 120 })).toBeLessThan(q30);
  });

  it('keeps the region of interest at the qp and coarsens the rest (one process or two)', async () => {
    // The road's lower half is the region; the upper half gets 12 QP more.
    const roi = { offset: 12, rects: [{ x: 0, y: 128, width: 320, height: 112 }] };
    const uniform = await media.encodeFrames(frames, 10, { ...full, qp: 24 });
    const regions = await media.encodeFrames(frames, 10, { ...full, qp: 24, roi });
    const [batched] = await media.encodeMany(frames, 10, [{ ...full, qp: 24, roi }]);
    expect(regions.data.length).toBeLessThan(uniform.data.length * 0.85);
    expect(Math.abs(batched.length - regions.data.length)).toBeLessThan(regions.data.length * 0.02);
    const half = (f: RawFrame, top: boolean): RawFrame => {
      const rows = top ? [0, 128] : [128, 240];
      return { width: f.width, height: rows[1] - rows[0], data: f.data.subarray(rows[0] * f.width * 3, rows[1] * f.width * 3) };
    };
    const [u, r] = [await media.decodeSegment(uniform.data), await media.decodeSegment(regions.data)];
    const err = (d: RawFrame[], top: boolean) => d.reduce((s, f, i) => s + meanAbsDiff(half(f, top), half(frames[i], top)), 0) / d.length;
    expect(err(r, true)).toBeGreaterThan(err(u, true) * 1.5);
    expect(err(r, false)).toBeLessThan(err(u, false) * 1.25);
  });

  it('decodes at the encoded size or scaled to a requested one', async () => {
    const small = await media.encodeFrames(frames, 10, { ...full, width: 160, height: 120, fps: 5 });
    const native = await media.decodeSegment(small.data);
    expect(native).toHaveLength(5);
    expect(native[0]).toMatchObject({ width: 160, height: 120 });
    const upscaled = await media.decodeSegment(small.data, { width: 320, height: 240 });
    expect(upscaled).toHaveLength(5);
    expect(upscaled.every((f) => f.width === 320 && f.height === 240 && f.data.length === 320 * 240 * 3)).toBe(true);
  });

  it('rejects settings the encoder cannot honour', async () => {
    await expect(media.encodeFrames(frames, 10, { ...full, width: 161 })).rejects.toThrow('width must be an even integer');
    await expect(media.encodeFrames(frames, 10, { ...full, qp: 52 })).rejects.toThrow('qp must be an integer in 0..51, got 52');
    await expect(media.encodeFrames([], 10, full)).rejects.toThrow('expected at least one frame');
    await expect(media.encodeFrames(frames, 0, full)).rejects.toThrow('inputFps must be positive');
  });

  it('rejects empty, foreign and truncated segments with one clear line', async () => {
    const segment = (await media.encodeFrames(frames, 10, full)).data;
    await expect(media.decodeSegment(Buffer.alloc(0))).rejects.toThrow('segment is not decodable: empty buffer (0 bytes)');
    await expect(media.decodeSegment(Buffer.from('<html>error page</html>'))).rejects.toThrow(/^segment is not decodable: .+ \(23 bytes\)$/);
    const withoutLastFrame = segment.subarray(0, segment.length - 100);
    await expect(media.decodeSegment(withoutLastFrame)).rejects.toThrow(/^segment is not decodable: truncated: decoded \d of 10 frames/);
    const cutEarly = segment.subarray(0, segment.indexOf('mdat') + 200);
    const error = await media.decodeSegment(cutEarly).catch((err: Error) => err);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/^segment is not decodable: .*partial file/);
    expect((error as Error).message).not.toContain('\n');
  });
});
