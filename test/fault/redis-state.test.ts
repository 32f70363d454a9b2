import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runVideos } from '../../app/run-job.js';
import { createRuntime } from '../../app/runtime.js';
import { startLocalRedis, type LocalRedis } from '../../src/embedded/local-redis.js';
import { RedisStateLostError } from '../../src/queue/epoch.js';
import { HIGHWAY, missingFootage } from '../support/footage.js';
import { missingModel } from '../support/models.js';
import { pipelineConfig } from '../support/pipeline-config.js';
import { trackScenarios } from './checker.js';

trackScenarios();

// A private Redis: these tests flush it, which must not touch the other tests' state.
describe('a Redis that lost its state is noticed, fast and loudly', () => {
  let local: LocalRedis;
  let admin: Redis;
  beforeAll(async () => {
    local = await startLocalRedis();
    admin = new Redis(local.url);
  });
  afterAll(async () => {
    admin?.disconnect();
    await local?.close();
  });
  const configFor = (label: string) => pipelineConfig(label, { REDIS_URL: local.url, ONEADAPT_EPOCH_CHECK_MS: '200', ONEADAPT_MODEL: 'fastestdet' });

  it('every process of a deployment sees one epoch; a flush makes each one stop', async () => {
    const config = configFor('epoch');
    const a = await createRuntime(config);
    const b = await createRuntime(config);
    try {
      expect(b.epoch).toBe(a.epoch);
      const lost = new Promise<Error>((resolve) => a.watchState(resolve));
      await admin.flushall();
      const err = await Promise.race([lost, new Promise<'late'>((r) => setTimeout(() => r('late'), 5000))]);
      expect(err).toBeInstanceOf(RedisStateLostError);
      expect((err as Error).message).toMatch(new RegExp(`epoch ${a.epoch} is (gone|replaced by .*)`));
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it.skipIf(missingFootage(HIGHWAY) ?? missingModel('fastestdet'))('run fails with the reason instead of waiting on an empty queue', async () => {
    const config = configFor('epoch-run');
    const running = runVideos(config, { videos: [HIGHWAY], policy: 'fixed:qp=30', maxSegments: 20, log: () => undefined });
    // Once the run is under way, Redis comes back empty.
    for (let i = 0; i < 300 && (await admin.keys(`${config.queuePrefix}:oa:stream:*:rows`)).length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    await admin.flushall();
    await expect(running).rejects.toBeInstanceOf(RedisStateLostError);
  });
});
