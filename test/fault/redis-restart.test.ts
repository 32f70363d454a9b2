import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueArchives } from '../../app/enqueue.js';
import { startRoles } from '../../app/roles.js';
import { waitForRows } from '../../app/stream-progress.js';
import type { RedisStateLostError } from '../../src/queue/epoch.js';
import { HIGHWAY, highwayClip, missingFootage } from '../support/footage.js';
import { missingModel } from '../support/models.js';
import { pipelineConfig } from '../support/pipeline-config.js';
import { RedisProcess } from '../support/redis-process.js';
import { checkStream, expectIntact, trackScenarios } from './checker.js';

const scenario = trackScenarios();

describe.skipIf(missingFootage(HIGHWAY) ?? missingModel('fastestdet'))('Redis killed (SIGKILL) under a running archive', () => {
  let clip: string;
  beforeAll(async () => {
    clip = await highwayClip(6);
  });
  const redisProcesses: RedisProcess[] = [];
  afterAll(async () => Promise.all(redisProcesses.map((r) => r.close())));

  it('with AOF: the roles reconnect and the stream finishes intact', async () => {
    const redis = await RedisProcess.create({ aof: true });
    redisProcesses.push(redis);
    await redis.start();
    const config = pipelineConfig('redis-aof', { REDIS_URL: redis.url, ONEADAPT_MODEL: 'fastestdet', ONEADAPT_EPOCH_CHECK_MS: '300' });
    const roles = await startRoles(config, ['worker', 'coordinator', 'ingest'], { log: () => undefined, gradients: false });
    let lost: RedisStateLostError | undefined;
    roles.runtime.watchState((err) => (lost = err));
    try {
      const [stream] = await enqueueArchives(roles.runtime, [clip], { policy: 'fixed:qp=30' });
      await waitForRows(roles.runtime, stream.streamId, 2, 60_000);
      await redis.kill();
      await new Promise((r) => setTimeout(r, 500));
      await redis.start();
      let meta = await roles.runtime.streams.meta(stream.streamId);
      for (let i = 0; i < 600 && meta?.totalSegments === undefined; i++) {
        await new Promise((r) => setTimeout(r, 100));
        meta = await roles.runtime.streams.meta(stream.streamId);
      }
      await waitForRows(roles.runtime, stream.streamId, 6, 60_000);
      const check = await checkStream(roles.runtime, stream.streamId);
      scenario.figures({ faults: 1, ...check });
      expect(check.segments).toBe(6);
      expectIntact(check);
      expect(lost).toBeUndefined();
    } finally {
      await roles.close();
    }
  });

  it('without persistence: every role notices the lost state and says so', async () => {
    const redis = await RedisProcess.create({ aof: false });
    redisProcesses.push(redis);
    await redis.start();
    const config = pipelineConfig('redis-noaof', { REDIS_URL: redis.url, ONEADAPT_MODEL: 'fastestdet', ONEADAPT_EPOCH_CHECK_MS: '300' });
    const roles = await startRoles(config, ['worker', 'coordinator', 'ingest'], { log: () => undefined, gradients: false });
    const lost = new Promise<RedisStateLostError>((resolve) => roles.runtime.watchState(resolve));
    try {
      const [stream] = await enqueueArchives(roles.runtime, [clip], { policy: 'fixed:qp=30' });
      await waitForRows(roles.runtime, stream.streamId, 1, 60_000);
      await redis.kill();
      await redis.start();
      const err = await Promise.race([lost, new Promise<'unnoticed'>((r) => setTimeout(() => r('unnoticed'), 10_000))]);
      scenario.figures({ faults: 1 });
      expect(err).not.toBe('unnoticed');
      expect((err as Error).message).toMatch(/^Redis lost its state: epoch \S+ is gone/);
    } finally {
      // What `worker`/`up` do on a lost state: close without waiting for jobs that cannot finish.
      const t0 = Date.now();
      await roles.close({ force: true });
      expect(Date.now() - t0).toBeLessThan(15_000);
    }
  });
});
