import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createFfmpegMedia } from '../../src/media/ffmpeg.js';
import type { RawFrame } from '../../src/media/types.js';

/** Shared footage lives beside the repository (../shared/footage); ONEADAPT_FOOTAGE_DIR overrides. */
export const FOOTAGE_DIR = process.env.ONEADAPT_FOOTAGE_DIR ?? fileURLToPath(new URL('../../../shared/footage/', import.meta.url));

export const HIGHWAY = join(FOOTAGE_DIR, 'highway-320x240.avi');
export const DASHCAM = join(FOOTAGE_DIR, 'dashcam-960x540.mp4');

/** For describe.skipIf: says which file is missing and where it was looked for. */
export function missingFootage(...paths: string[]): string | undefined {
  const missing = paths.filter((path) => !existsSync(path));
  return missing.length > 0 ? `footage not found: ${missing.join(', ')} (set ONEADAPT_FOOTAGE_DIR)` : undefined;
}

/** The first `seconds` of the highway camera at 10 fps, 320×240, QP 18 (near-lossless). */
export async function highwayFrames(seconds: number): Promise<RawFrame[]> {
  const frames: RawFrame[] = [];
  for await (const f of createFfmpegMedia().readFrames(HIGHWAY, { fps: 10, durationS: seconds })) frames.push(f);
  return frames;
}

/** An encoded segment of the highway camera, as an ingest would upload it. */
export async function highwaySegment(seconds = 1, qp = 24): Promise<Buffer> {
  return (await createFfmpegMedia().encodeFrames(await highwayFrames(seconds), 10, { qp, width: 320, height: 240, fps: 10 })).data;
}

/** A short clip of the highway camera written to a temp file: archives and sources for tests. */
export async function highwayClip(seconds: number): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'oneadapt-clip-')), 'clip.mp4');
  await writeFile(file, await highwaySegment(seconds, 18));
  return file;
}
