import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { OneAdaptState } from '../../src/adapt/oneadapt-policy.js';
import { policyFromSpec } from '../../src/adapt/policies.js';
import { DEFAULT_SPACES } from '../../src/knobs/space.js';
import { bullConnection } from '../../src/queue/connection.js';
import { RESULT_QUEUE } from '../../src/queue/names.js';
import { resultSink } from '../../src/queue/job-sinks.js';
import { StreamRegister } from '../../src/queue/stream-register.js';
import type { ResultJob } from '../../src/records/segment-result.js';
import { Coordinator } from '../../workers/coordinator/coordinator.js';
import { startCoordinatorWorker } from '../../workers/coordinator/results-worker.js';
import { randomPrefix } from '../support/random.js';
import { trackScenarios } from './checker.js';

const scenario = trackScenarios();
const knobs = { qp: 20, resolution: 1, fps: 10, roi: 0, width: 320, height: 240 };
const policy = 'oneadapt:knobs=qp';
const result = (streamId: string, seq: number): ResultJob => ({
  streamId, seq, knobs, knobVersion: 0, bytes: 1000, frames: 10, slots: 10, detections: 2, proxy: 1.5,
  decodeMs: 1, inferMs: 1, gradMs: 1, encodeMs: 1, probeMs: 1, f1: null,
  gradients: [{ knob: 'qp', recHq: 0.01, recLq: 0.011, bwHq: 1, bwLq: 0.7, gpuHq: 1, gpuLq: 1 }],
});

/**
 * A coordinator that dies once around its commit: before it (the row is stored, the step is
 * not) or after it (the step is stored, the job's completion is not). Either way BullMQ runs
 * the result again; the stream must end with one row and one Adam step per result.
 */
describe('a coordinator that dies around its commit', () => {
  const redisUrl = inject('redisUrl');
  const redis = new Redis(redisUrl);
  afterAll(() => redis.disconnect());

  for (const when of ['before', 'after'] as const) {
    it(`${when} the commit: the retried result steps the policy exactly once`, async () => {
      const prefix = randomPrefix(`death-${when}`);
      const register = new StreamRegister(redis, prefix);
      const ctx = { spaces: DEFAULT_SPACES, sourceWidth: 320, sourceHeight: 240 };
      await register.register({ streamId: 's', source: 'x.mp4', sourceWidth: 320, sourceHeight: 240, policy, model: 'm', segmentSeconds: 1, analysisFps: 10, spaces: DEFAULT_SPACES }, knobs, policyFromSpec(policy).initial(ctx).state);
      // The fault: the commit of segment 1 fails once, on the side of it under test.
      let died = false;
      const dying = new Proxy(new StreamRegister(redis, prefix), {
        get(target, prop, receiver) {
          if (prop !== 'commit') return Reflect.get(target, prop, receiver) as unknown;
          return async (...args: Parameters<StreamRegister['commit']>) => {
            if (args[1] === 1 && !died && when === 'before') {
              died = true;
              throw new Error('coordinator died before its commit');
            }
            const out = await target.commit(...args);
            if (args[1] === 1 && !died && when === 'after') {
              died = true;
              throw new Error('coordinator died after its commit');
            }
            return out;
          };
        },
      });
      const connection = bullConnection(redisUrl);
      const worker = startCoordinatorWorker({ connection, prefix, coordinator: new Coordinator(dying), timings: { lockMs: 20_000, stalledIntervalMs: 10_000, maxStalled: 1 } });
      const queue = new Queue(RESULT_QUEUE, { connection, prefix, defaultJobOptions: { attempts: 5, backoff: { type: 'fixed', delay: 100 } } });
      try {
        const sink = resultSink(queue);
        for (const seq of [0, 1, 2]) {
          await sink.add(result('s', seq));
          await register.waitConsumed('s', seq, { timeoutMs: 20_000 });
        }
        // The retried job may come after the later results: wait until nothing is left to run.
        for (let i = 0; i < 200; i++) {
          const c = await queue.getJobCounts('waiting', 'delayed', 'active', 'prioritized');
          if (c.waiting + c.delayed + c.active + c.prioritized === 0) break;
          await new Promise((r) => setTimeout(r, 50));
        }
        const { state, stale } = await register.policyState('s');
        const rows = await register.rows('s');
        scenario.figures({ faults: 1, lost: 3 - rows.length, duplicates: Math.max(0, (state as OneAdaptState).moments.qp.t - 3) });
        expect(died).toBe(true);
        expect(rows.map((r) => r.seq)).toEqual([0, 1, 2]);
        // One step per result: the retry after a death before the commit steps once; after
        // it, the retry finds the seq consumed and counts it as stale instead of stepping again.
        expect((state as OneAdaptState).moments.qp.t).toBe(3);
        expect(stale).toBe(when === 'after' ? 1 : 0);
      } finally {
        await worker.close();
        await queue.close();
        await register.close();
      }
    });
  }
});
