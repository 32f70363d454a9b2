import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runVideos } from '../../app/run-job.js';
import { startRoles, type RunningRoles } from '../../app/roles.js';
import { createRuntime } from '../../app/runtime.js';
import { loadConfig } from '../../src/config/config.js';
import { DEFAULT_SPACES } from '../../src/knobs/space.js';
import { createFfmpegMedia } from '../../src/media/ffmpeg.js';
import { segmentJobId, SEGMENT_QUEUE } from '../../src/queue/names.js';
import type { SegmentJob } from '../../src/records/segment-job.js';
import { segmentKey } from '../../src/storage/keys.js';
import { createS3Storage } from '../../src/storage/s3.js';
import { HIGHWAY, missingFootage } from '../support/footage.js';
import { pipelineConfig } from '../support/pipeline-config.js';

const run = promisify(execFile);

async function cli(...args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    await run(process.execPath, ['--import', 'tsx', 'app/cli/main.ts', ...args], { env: { ...process.env, REDIS_URL: 'redis://127.0.0.1:1' } });
    return { code: 0, stderr: '' };
  } catch (err) {
    const e = err as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
}

describe('bad input gets a one-line error saying what was expected', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'oneadapt-bad-'));
  });

  it('missing video', async () => {
    const r = await cli('run', path.join(dir, 'nope.mp4'));
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n').pop()).toBe(`oneadapt: video not found: ${path.join(dir, 'nope.mp4')}`);
  });

  it('a text file named .mp4', async () => {
    const file = path.join(dir, 'notes.mp4');
    await writeFile(file, 'these are not frames\n');
    const r = await cli('run', file);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^oneadapt: not a readable video: .*notes\.mp4/m);
  });

  it('unknown model', async () => {
    await expect(runVideos(loadConfig({}), { videos: [HIGHWAY], policy: 'fixed:', model: 'yolo-v99' })).rejects.toThrow(
      /unknown model "yolo-v99": expected one of yolox-nano, fastestdet/,
    );
  });

  it('unknown policy', async () => {
    const r = await cli('run', HIGHWAY, '--policy', 'magic');
    expect(r.stderr).toMatch(/^oneadapt: unknown policy "magic": expected one of/m);
  });

  it('unreachable Redis', async () => {
    await expect(createRuntime(loadConfig({ REDIS_URL: 'redis://127.0.0.1:1' }))).rejects.toThrow(/^Redis unreachable at redis:\/\/127\.0\.0\.1:1: ECONNREFUSED/);
  });

  it('unreachable S3', async () => {
    const store = createS3Storage({ endpoint: 'http://127.0.0.1:1', region: 'us-east-1', bucket: 'nothing', accessKeyId: 'a', secretAccessKey: 'b' });
    await expect(store.put('k', 'v')).rejects.toThrow(/S3 endpoint unreachable at http:\/\/127\.0\.0\.1:1/);
  });
});

describe.skipIf(missingFootage(HIGHWAY))('a bad segment fails only its own job', () => {
  let roles: RunningRoles;
  const config = pipelineConfig('badseg');
  beforeAll(async () => {
    roles = await startRoles(config, ['worker', 'coordinator'], { log: () => undefined });
  });
  afterAll(async () => roles?.close());

  it('keeps the reason on the failed job and processes the segments around it', async () => {
    const rt = roles.runtime;
    const media = createFfmpegMedia();
    const frames = [];
    for await (const f of media.readFrames(HIGHWAY, { fps: 10, durationS: 1 })) frames.push(f);
    const knobs = { qp: 24, resolution: 1, fps: 10, roi: 0, width: 320, height: 240 };
    const good = await media.encodeFrames(frames, 10, { qp: 24, width: 320, height: 240, fps: 10 });
    const streamId = 'bad-segments';
    await rt.streams.register({ streamId, source: HIGHWAY, sourceWidth: 320, sourceHeight: 240, policy: 'fixed:qp=24', model: 'yolox-nano', segmentSeconds: 1, analysisFps: 10, spaces: DEFAULT_SPACES }, knobs, null);
    const bodies = [good.data, Buffer.alloc(0), good.data.subarray(0, Math.floor(good.data.length / 3)), good.data];
    const queue = new Queue(SEGMENT_QUEUE, { connection: rt.connection, prefix: config.queuePrefix });
    for (const [seq, body] of bodies.entries()) {
      await rt.store.put(segmentKey(streamId, seq), body);
      const job: SegmentJob = { streamId, seq, segmentKey: segmentKey(streamId, seq), knobs, knobVersion: 0, sourceWidth: 320, sourceHeight: 240, slots: 10, bytes: body.length, encodeMs: 0, probeMs: 0 };
      await queue.add('segment', job, { jobId: segmentJobId(streamId, seq) });
    }
    while ((await rt.streams.rowCount(streamId)) < 4) await new Promise((r) => setTimeout(r, 100));
    const rows = await rt.streams.rows(streamId);
    expect(rows.map((r) => [r.seq, r.error === undefined, r.frames])).toEqual([[0, true, 10], [1, false, 0], [2, false, 0], [3, true, 10]]);
    expect(rows[1].error).toMatch(/empty \(0 bytes\)/);
    expect(rows[2].error).toMatch(/not decodable/);

    const failed = await queue.getFailed();
    await queue.close();
    expect(failed.map((j) => j.id).sort()).toEqual([segmentJobId(streamId, 1), segmentJobId(streamId, 2)].sort());
    // Unrecoverable: one attempt, the reason kept.
    expect(failed.every((j) => j.attemptsMade === 1 && j.failedReason.length > 0)).toBe(true);
  });
});
