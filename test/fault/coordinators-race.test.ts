import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { OneAdaptState } from '../../src/adapt/oneadapt-policy.js';
import { policyFromSpec } from '../../src/adapt/policies.js';
import { DEFAULT_SPACES } from '../../src/knobs/space.js';
import { StreamRegister } from '../../src/queue/stream-register.js';
import type { ResultJob } from '../../src/records/segment-result.js';
import { Coordinator } from '../../workers/coordinator/coordinator.js';
import { randomPrefix } from '../support/random.js';
import { trackScenarios } from './checker.js';

trackScenarios();

const knobs = { qp: 20, resolution: 1, fps: 10, roi: 0, width: 320, height: 240 };
const result = (seq: number): ResultJob => ({
  streamId: 'race', seq, knobs, knobVersion: 0, bytes: 1000, frames: 10, slots: 10, detections: 2, proxy: 1.5,
  decodeMs: 1, inferMs: 1, gradMs: 1, encodeMs: 1, probeMs: 1, f1: null,
  // Cheaper costs a little accuracy and saves a lot of bytes: every step moves qp down.
  gradients: [{ knob: 'qp', recHq: 0.01, recLq: 0.011, bwHq: 1, bwLq: 0.7, gpuHq: 1, gpuLq: 1 }],
});

describe('several coordinators on one stream', () => {
  const redis = new Redis(inject('redisUrl'));
  afterAll(() => redis.disconnect());

  it('lose no Adam step and take none twice, however their commits interleave', async () => {
    const prefix = randomPrefix('race');
    const register = new StreamRegister(redis, prefix);
    await register.register({ streamId: 'race', source: 'x.mp4', sourceWidth: 320, sourceHeight: 240, policy: 'oneadapt:knobs=qp', model: 'm', segmentSeconds: 1, analysisFps: 10, spaces: DEFAULT_SPACES }, knobs, policyFromSpec('oneadapt:knobs=qp').initial({ spaces: DEFAULT_SPACES, sourceWidth: 320, sourceHeight: 240 }).state);
    const a = new Coordinator(new StreamRegister(redis, prefix));
    const b = new Coordinator(new StreamRegister(redis, prefix));
    // 40 results, alternately to two coordinators, all at once (a live stream, no lockstep).
    const outcomes = await Promise.all(Array.from({ length: 40 }, (_, seq) => (seq % 2 ? a : b).handle(result(seq))));
    const { state, lastSeq, stale } = await register.policyState('race');
    const stepped = outcomes.filter((o) => o === 'stepped').length;
    expect(stepped + stale).toBe(40);
    expect(outcomes.filter((o) => o === 'stale').length).toBe(stale);
    // One Adam step per consumed result: none lost to a race, none taken twice.
    expect((state as OneAdaptState).moments.qp.t).toBe(stepped);
    expect(lastSeq).toBe(39);
    expect((await register.rows('race')).length).toBe(40);
    await register.close();
  });

  it('refuse a commit over a state that changed since it was read', async () => {
    const prefix = randomPrefix('cas');
    const register = new StreamRegister(redis, prefix);
    await register.register({ streamId: 'cas', source: 'x.mp4', sourceWidth: 320, sourceHeight: 240, policy: 'fixed:', model: 'm', segmentSeconds: 1, analysisFps: 10, spaces: DEFAULT_SPACES }, knobs, { n: 0 });
    const read = await register.policyState('cas');
    expect(await register.commit('cas', 0, { n: 1 }, undefined, read.lastSeq)).toEqual({ consumed: true });
    // A second coordinator stepped from the same read: its commit must not overwrite.
    expect(await register.commit('cas', 1, { n: 1 }, undefined, read.lastSeq)).toEqual({ consumed: false, conflict: true });
    expect((await register.policyState('cas')).state).toEqual({ n: 1 });
    await register.close();
  });
});
