import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mediaFromConfig } from '../../app/runtime.js';
import { loadConfig } from '../../src/config/config.js';
import { createFfmpegMedia, stallOptions } from '../../src/media/ffmpeg.js';
import { FfmpegUnavailableError, ffmpegFailure } from '../../src/media/ffmpeg-run.js';
import { trackScenarios } from './checker.js';

trackScenarios();

function onPath(binary: string): boolean {
  try {
    execFileSync(binary, ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const frame = { width: 64, height: 48, data: new Uint8Array(64 * 48 * 3).fill(90) };
const settings = { qp: 24, width: 64, height: 48, fps: 10 };

let dir: string;
/** Every pid the hanging wrappers were started as (one per ffmpeg/ffprobe process). */
let pidFile: string;
let hangingFfmpeg: string;
let hangingFfprobe: string;
/** Answers like ffprobe does for a 64x48 10-fps clip, at once. */
let instantFfprobe: string;
let dummy: string;

async function script(name: string, body: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, `#!/bin/sh\n${body}\n`);
  await chmod(file, 0o755);
  return file;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'oneadapt-fftimeout-'));
  pidFile = path.join(dir, 'pids');
  // `exec`, so that the pid written is the sleeping process itself.
  hangingFfmpeg = await script('ffmpeg-hangs', `echo $$ >> "${pidFile}"\nexec sleep 30`);
  hangingFfprobe = await script('ffprobe-hangs', `echo $$ >> "${pidFile}"\nexec sleep 30`);
  const report = JSON.stringify({ streams: [{ codec_type: 'video', codec_name: 'h264', width: 64, height: 48, avg_frame_rate: '10/1' }], format: { duration: '0.3' } });
  instantFfprobe = await script('ffprobe-instant', `echo '${report}'`);
  dummy = path.join(dir, 'clip.mp4');
  await writeFile(dummy, 'never read: the binaries are stand-ins');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function startedPids(): Promise<number[]> {
  const text = await readFile(pidFile, 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map(Number);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    expect((err as NodeJS.ErrnoException).code).toBe('ESRCH');
    return false;
  }
}

/** Runs `op`, expecting the timeout: the error, how long it took, and that no process it started survives. */
async function expectTimeout(op: () => Promise<unknown>, message: RegExp): Promise<void> {
  const before = (await startedPids()).length;
  const started = Date.now();
  const err = await op().then(
    () => new Error('expected a timeout'),
    (e: unknown) => e,
  );
  const ms = Date.now() - started;
  expect(err).toBeInstanceOf(FfmpegUnavailableError);
  expect((err as Error).message).toMatch(message);
  // A bound, not a speed goal: the stand-in would sleep 30 s.
  expect(ms).toBeLessThan(10_000);
  const pids = (await startedPids()).slice(before);
  expect(pids.length).toBeGreaterThan(0);
  expect(pids.filter(alive)).toEqual([]);
}

describe('ffmpeg and ffprobe runs that hang are killed and reported as a machine failure', () => {
  it('decodeMany', async () => {
    const media = createFfmpegMedia({ ffmpegPath: hangingFfmpeg, timeoutMs: 500 });
    await expectTimeout(
      () => media.decodeMany([Buffer.from('a segment')], { width: 64, height: 48 }),
      /^decoding 1 segment\(s\) timed out after 500 ms: ffmpeg killed/,
    );
  });

  it('encodeMany', async () => {
    const media = createFfmpegMedia({ ffmpegPath: hangingFfmpeg, timeoutMs: 500 });
    await expectTimeout(
      () => media.encodeMany([frame, frame, frame], 10, [settings, { ...settings, qp: 40 }]),
      /^encoding 2 variants of 3 frames timed out after 500 ms: ffmpeg killed/,
    );
  });

  it('encodeFrames and scaleFrames', async () => {
    const media = createFfmpegMedia({ ffmpegPath: hangingFfmpeg, timeoutMs: 500 });
    await expectTimeout(() => media.encodeFrames([frame, frame], 10, settings), /^encoding 2 frames \(qp 24, 64x48, 10 fps\) timed out after 500 ms/);
    await expectTimeout(() => media.scaleFrames([frame], { width: 32, height: 24 }), /^decoding 0 segment\(s\) timed out after 500 ms/);
  });

  it('ffprobe, through probe()', async () => {
    const media = createFfmpegMedia({ ffprobePath: hangingFfprobe, timeoutMs: 500 });
    await expectTimeout(() => media.probe(dummy), new RegExp(`^ffprobe ${dummy} timed out after 500 ms: ffprobe killed`));
  });

  it('decodeSegment: its probe and its decode', async () => {
    const probeHangs = createFfmpegMedia({ ffprobePath: hangingFfprobe, timeoutMs: 500 });
    await expectTimeout(() => probeHangs.decodeSegment(Buffer.from('a segment')), /^ffprobe .*segment\.mp4 timed out after 500 ms/);
    const decodeHangs = createFfmpegMedia({ ffmpegPath: hangingFfmpeg, ffprobePath: instantFfprobe, timeoutMs: 500 });
    await expectTimeout(() => decodeHangs.decodeSegment(Buffer.from('a segment')), /^ffmpeg decode of .*segment\.mp4 timed out after 500 ms/);
  });

  it('ONEADAPT_FFMPEG_TIMEOUT_MS reaches the media port the runtime builds', async () => {
    const media = mediaFromConfig(loadConfig({ ONEADAPT_FFMPEG_PATH: hangingFfmpeg, ONEADAPT_FFMPEG_TIMEOUT_MS: '1000' }));
    await expectTimeout(() => media.decodeMany([Buffer.from('a segment')], { width: 64, height: 48 }), /timed out after 1000 ms/);
    expect(() => loadConfig({ ONEADAPT_FFMPEG_TIMEOUT_MS: '10' })).toThrow(/ONEADAPT_FFMPEG_TIMEOUT_MS="10"/);
  });

  it("fluent-ffmpeg's own timeout message is a machine failure too, not bad input", () => {
    expect(ffmpegFailure('decoding 1 segment(s)', new Error('process ran into a timeout (2s)'), '')).toBeInstanceOf(FfmpegUnavailableError);
  });
});

describe('reading a whole source', () => {
  it('network sources get -rw_timeout (µs); files and rtsp do not', () => {
    expect(stallOptions('http://cam.local/live.ts', undefined)).toEqual(['-rw_timeout', '30000000']);
    expect(stallOptions('https://bucket.s3.amazonaws.com/v.mp4?X-Amz-Signature=x', 5_000)).toEqual(['-rw_timeout', '5000000']);
    expect(stallOptions('rtmp://live/app', 1_500)).toEqual(['-rw_timeout', '1500000']);
    expect(stallOptions('rtsp://cam/1', undefined)).toEqual([]);
    expect(stallOptions('/data/video.mp4', undefined)).toEqual([]);
    expect(stallOptions('http://cam.local/live.ts', 0)).toEqual([]);
  });

  it.skipIf(!onPath('ffmpeg') || !onPath('ffprobe'))('readFrames is not cut off by the per-run limit', async () => {
    const clip = path.join(dir, 'real.mp4');
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=10', '-t', '0.5', '-pix_fmt', 'yuv420p', clip]);
    // Slower than the limit to start; fluent-ffmpeg's capability checks go straight through.
    const slow = await script('ffmpeg-slow', 'case "$1" in -formats|-encoders) exec ffmpeg "$@";; esac\nsleep 1.5\nexec ffmpeg "$@"');
    const media = createFfmpegMedia({ ffmpegPath: slow, timeoutMs: 500 });
    const frames = [];
    for await (const f of media.readFrames(clip, { fps: 10 })) frames.push(f);
    expect(frames).toHaveLength(5);
  });
});
