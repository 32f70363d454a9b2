import { Redis } from 'ioredis';
import { afterAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { DEFAULT_SPACES } from '../../src/knobs/space.js';
import { StreamRegister } from '../../src/queue/stream-register.js';
import type { SegmentRow } from '../../src/records/segment-row.js';
import { randomPrefix } from '../support/random.js';

const row = (seq: number, bytes: number): SegmentRow => ({
  seq, knobs: { qp: 20, resolution: '320x240', fps: 10, roi: 0 }, knobVersion: 0, bytes, frames: 10, slots: 10, detections: 0, proxy: 0,
  f1: null, refBytes: null, decodeMs: 0, inferMs: 0, gradMs: 0, encodeMs: 0, probeMs: 0,
});
const k = (qp: number) => ({ qp, resolution: 1, fps: 10, roi: 0, width: 320, height: 240 });

describe('stream state in Redis', () => {
  const redis = new Redis(inject('redisUrl'));
  let store: StreamRegister;
  afterAll(() => redis.disconnect());
  beforeEach(async () => {
    store = new StreamRegister(redis, randomPrefix('store'));
    await store.register({ streamId: 's1', source: 'x', sourceWidth: 320, sourceHeight: 240, policy: 'fixed:', model: 'm', segmentSeconds: 1, analysisFps: 10, spaces: DEFAULT_SPACES }, k(20), { n: 0 });
  });

  it('applies an update from the next unclaimed segment, never an encoded one', async () => {
    expect((await store.claim('s1', 0)).knobs.qp).toBe(20);
    expect((await store.claim('s1', 1)).knobs.qp).toBe(20);
    expect((await store.claim('s1', 2)).knobs.qp).toBe(20);
    // The result of segment 0 arrives while segment 2 is already encoded.
    const out = await store.commit('s1', 0, { n: 1 }, k(30));
    expect(out).toEqual({ consumed: true, update: { version: 1, validFromSeq: 3 } });
    expect((await store.claim('s1', 3)).knobs.qp).toBe(30);
    expect((await store.updates('s1')).map((u) => [u.version, u.validFromSeq, u.afterSeq])).toEqual([[1, 3, 0]]);
  });

  it('consumes each result once and ignores older ones', async () => {
    await store.claim('s1', 0);
    await store.claim('s1', 1);
    expect((await store.commit('s1', 1, { n: 1 }, k(24))).consumed).toBe(true);
    expect((await store.commit('s1', 1, { n: 2 }, k(28))).consumed).toBe(false);
    expect((await store.commit('s1', 0, { n: 3 }, k(28))).consumed).toBe(false);
    expect(await store.policyState('s1')).toEqual({ state: { n: 1 }, lastSeq: 1 });
    expect((await store.currentKnobs('s1'))?.knobs.qp).toBe(24);
  });

  it('publishes nothing when the knobs stay the same', async () => {
    await store.claim('s1', 0);
    expect(await store.commit('s1', 0, { n: 1 }, k(20))).toEqual({ consumed: true });
    expect(await store.updates('s1')).toEqual([]);
  });

  it('keeps the first row of a duplicated result', async () => {
    expect(await store.recordRow('s1', 4, row(4, 1))).toBe(true);
    expect(await store.recordRow('s1', 4, row(4, 2))).toBe(false);
    expect(await store.rows('s1')).toEqual([row(4, 1)]);
  });
});
