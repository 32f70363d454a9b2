import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRoles, type RunningRoles } from '../../app/roles.js';
import { waitForRows } from '../../app/stream-progress.js';
import { DEFAULT_SPACES } from '../../src/knobs/space.js';
import { resultJobId, segmentJobId } from '../../src/queue/names.js';
import { segmentKey } from '../../src/storage/keys.js';
import { HIGHWAY, highwaySegment, missingFootage } from '../support/footage.js';
import { missingModel } from '../support/models.js';
import { pipelineConfig } from '../support/pipeline-config.js';
import { checkStream, expectIntact, trackScenarios } from './checker.js';

const scenario = trackScenarios();

// Short locks so that recovery is quick to observe; production defaults are 20 s + 10 s.
const TIMINGS = { ONEADAPT_LOCK_MS: '2000', ONEADAPT_STALLED_INTERVAL_MS: '1000', ONEADAPT_MODEL: 'fastestdet' };

describe.skipIf(missingFootage(HIGHWAY) ?? missingModel('fastestdet'))('a worker killed mid-segment', () => {
  const config = pipelineConfig('crash', TIMINGS);
  let roles: RunningRoles | undefined;
  let slowFfmpeg: string;
  let pidFile = '';
  let segment: Buffer;

  beforeAll(async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'oneadapt-crash-'));
    // A worker whose decodes take long enough to be killed in the middle of one.
    slowFfmpeg = path.join(dir, 'ffmpeg-slow');
    pidFile = path.join(dir, 'ffmpeg.pid');
    // It never finishes; its pid is kept to clean up after the worker that started it is killed.
    await writeFile(slowFfmpeg, `#!/bin/sh\necho $$ >> "${pidFile}"\nexec sleep 30\n`);
    await chmod(slowFfmpeg, 0o755);
    segment = await highwaySegment();
  });
  afterAll(async () => roles?.close());

  it('has its job taken up by another worker once its lock lapses, and analysed once', async () => {
    const env = {
      ...process.env,
      REDIS_URL: config.redisUrl,
      S3_ENDPOINT: config.s3.endpoint,
      S3_BUCKET: config.s3.bucket,
      S3_REGION: config.s3.region,
      S3_ACCESS_KEY_ID: config.s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: config.s3.secretAccessKey,
      ONEADAPT_QUEUE_PREFIX: config.queuePrefix,
      ONEADAPT_FFMPEG_PATH: slowFfmpeg,
      ...TIMINGS,
    };
    const doomed = spawn(process.execPath, ['--import', 'tsx', 'app/cli/main.ts', 'worker'], { env, stdio: 'ignore' });
    const exited = new Promise((resolve) => doomed.once('exit', resolve));
    try {
      // The coordinator here, so the result is consumed; the worker is the child's alone for now.
      roles = await startRoles(config, ['coordinator'], { log: () => undefined });
      const rt = roles.runtime;
      const knobs = { qp: 24, resolution: 1, fps: 10, roi: 0, width: 320, height: 240 };
      await rt.streams.register({ streamId: 'crashed', source: 'x.mp4', sourceWidth: 320, sourceHeight: 240, policy: 'fixed:qp=24', model: 'fastestdet', segmentSeconds: 1, analysisFps: 10, spaces: DEFAULT_SPACES }, knobs, null);
      await rt.store.put(segmentKey('crashed', 0), segment);
      await rt.segments.add({ streamId: 'crashed', seq: 0, segmentKey: segmentKey('crashed', 0), knobs, knobVersion: 0, sourceWidth: 320, sourceHeight: 240, slots: 10, bytes: segment.length, encodeMs: 0, probeMs: 0 });
      const job = () => rt.queues.segments.getJob(segmentJobId('crashed', 0));
      for (let i = 0; i < 600 && (await (await job())?.getState()) !== 'active'; i++) await new Promise((r) => setTimeout(r, 100));
      expect(await (await job())?.getState()).toBe('active');
      doomed.kill('SIGKILL');
      await exited;
    } finally {
      if (doomed.exitCode === null && doomed.signalCode === null) doomed.kill('SIGKILL');
      // A SIGKILLed process cannot reap its children: the hung ffmpeg would outlive it.
      for (const pid of (await readFile(pidFile, 'utf8').catch(() => '')).split('\n').filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    // A healthy worker joins; the stalled job comes back to it within lock + stalled interval.
    const t0 = Date.now();
    const healthy = await startRoles(config, ['worker'], { log: () => undefined, gradients: false });
    try {
      await waitForRows(roles.runtime, 'crashed', 1, 30_000);
    } finally {
      await healthy.close();
    }
    const recoveredMs = Date.now() - t0;
    const [row] = await roles.runtime.streams.rows('crashed');
    expect([row.seq, row.error, row.frames]).toEqual([0, undefined, 10]);
    expect(recoveredMs).toBeLessThan(30_000);
    // One result job for the segment, whatever happened to the first attempt.
    expect(await roles.runtime.queues.results.getJob(resultJobId('crashed', 0))).toBeDefined();
    const check = await checkStream(roles.runtime, 'crashed', 1);
    scenario.figures({ faults: 1, ...check });
    expectIntact(check);
    // The row is recorded before the commit: wait for the commit itself.
      await roles.runtime.streams.waitConsumed('crashed', 0, { timeoutMs: 10_000 });
  });
});
