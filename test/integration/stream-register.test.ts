import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { DEFAULT_SPACES } from '../../src/knobs/space.js';
import { StreamRegister } from '../../src/queue/stream-register.js';
import type { SegmentRow } from '../../src/records/segment-row.js';
import { randomPrefix } from '../support/random.js';

const row = (seq: number, bytes: number): SegmentRow => ({
  seq, knobs: { qp: 20, resolution: '320x240', fps: 10, roi: 0 }, knobVersion: 0, bytes, frames: 10, slots: 10, detections: 0, proxy: 0,
  f1: null, refBytes: null, decodeMs: 0, inferMs: 0, gradMs: 0, encodeMs: 0, probeMs: 0,
});
const k = (qp: number) => ({ qp, resolution: 1, fps: 10, roi: 0, width: 320, height: 240 });
const meta = { streamId: 's1', source: 'x', sourceWidth: 320, sourceHeight: 240, policy: 'fixed:', model: 'm', segmentSeconds: 1, analysisFps: 10, spaces: DEFAULT_SPACES };
/** Settles to 'pending' when `p` has not settled within `ms`. */
const within = <T>(p: Promise<T>, ms: number): Promise<T | 'pending'> => Promise.race([p, new Promise<'pending'>((r) => setTimeout(() => r('pending'), ms))]);
const luaSha = (file: string) => createHash('sha1').update(readFileSync(new URL(`../../src/queue/lua/${file}`, import.meta.url), 'utf8')).digest('hex');

describe('stream state in Redis', () => {
  const redis = new Redis(inject('redisUrl'));
  let store: StreamRegister;
  afterAll(() => redis.disconnect());
  beforeEach(async () => {
    store = new StreamRegister(redis, randomPrefix('store'));
    await store.register(meta, k(20), { n: 0 });
  });
  afterEach(() => store.close());

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
    // Both refused commits are counted, not dropped silently.
    expect(await store.policyState('s1')).toEqual({ state: { n: 1 }, lastSeq: 1, stale: 2 });
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

  it('wakes a waiter when the awaited result is consumed after the wait began', async () => {
    await store.claim('s1', 0);
    await store.claim('s1', 1);
    const wait = store.waitConsumed('s1', 1, { timeoutMs: 10_000 });
    expect(await within(wait, 100)).toBe('pending');
    await store.commit('s1', 0, { n: 1 }, k(20));
    expect(await within(wait, 100)).toBe('pending');
    await store.commit('s1', 1, { n: 2 }, k(20));
    expect(await within(wait, 1000)).toBeUndefined();
  });

  it('resolves at once when the result is already consumed, without subscribing', async () => {
    await store.claim('s1', 0);
    await store.commit('s1', 0, { n: 1 }, k(20));
    const t0 = Date.now();
    await store.waitConsumed('s1', 0, { timeoutMs: 5000 });
    // An already-aborted ingest still sees what is done, as the polling loop did.
    await store.waitConsumed('s1', 0, { timeoutMs: 5000, signal: AbortSignal.abort() });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(Reflect.get(store, 'subscriber')).toBeUndefined();
  });

  it('never loses a wake-up when the commit races the subscription', async () => {
    for (let seq = 0; seq < 20; seq++) await store.claim('s1', seq);
    await Promise.all(
      Array.from({ length: 20 }, (_, seq) =>
        Promise.all([store.waitConsumed('s1', seq, { timeoutMs: 5000 }), new Promise((r) => setTimeout(r, seq % 3)).then(() => store.commit('s1', seq, { seq }, k(20)))]),
      ),
    );
    expect(await store.lastConsumed('s1')).toBe(19);
  });

  it('reads the state again after the subscriber reconnects: what was published meanwhile is lost', async () => {
    await store.claim('s1', 0);
    const wait = store.waitConsumed('s1', 0, { timeoutMs: 10_000 });
    expect(await within(wait, 100)).toBe('pending');
    const sub = Reflect.get(store, 'subscriber') as Redis;
    sub.disconnect(true);
    await vi.waitFor(() => expect(sub.status).toBe('reconnecting'));
    await store.commit('s1', 0, { n: 1 }, k(20));
    expect(await within(wait, 5000)).toBeUndefined();
  });

  it('gives up at the deadline with a message that says what is missing', async () => {
    await expect(store.waitConsumed('s1', 0, { timeoutMs: 150 })).rejects.toThrow(
      'stream "s1": no result for segment 0 within 150 ms (are inference workers and a coordinator running?)',
    );
    // The wait left its channel: nothing stays subscribed.
    expect(Reflect.get(store, 'channels').size).toBe(0);
  });

  it('stops waiting when the ingest is aborted', async () => {
    const ac = new AbortController();
    const wait = store.waitConsumed('s1', 0, { timeoutMs: 10_000, signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await expect(wait).rejects.toThrow('ingest aborted');
    await expect(store.waitConsumed('s1', 0, { timeoutMs: 10_000, signal: AbortSignal.abort() })).rejects.toThrow('ingest aborted');
  });

  it('rejects pending waits on close and closes the subscriber connection', async () => {
    const wait = store.waitConsumed('s1', 0, { timeoutMs: 10_000 });
    expect(await within(wait, 100)).toBe('pending');
    const sub = Reflect.get(store, 'subscriber') as Redis;
    expect(sub.status).toBe('ready');
    await store.close();
    await expect(wait).rejects.toThrow('stream register closed');
    await vi.waitFor(() => expect(sub.status).toBe('end'));
    await expect(store.waitRows('s1', 1)).rejects.toThrow('stream register closed');
  });

  it('waits for the rows, out-of-order and duplicated results included', async () => {
    const wait = store.waitRows('s1', 2, { timeoutMs: 10_000 });
    expect(await within(wait, 100)).toBe('pending');
    await store.recordRow('s1', 1, row(1, 1));
    await store.recordRow('s1', 1, row(1, 2));
    expect(await within(wait, 100)).toBe('pending');
    // Segment 0's result arrives after segment 1's was consumed: its row counts, its commit is stale.
    await store.commit('s1', 1, { n: 1 }, k(20));
    await store.recordRow('s1', 0, row(0, 1));
    expect(await store.commit('s1', 0, { n: 2 }, k(20))).toEqual({ consumed: false });
    expect(await within(wait, 1000)).toBeUndefined();
    await store.waitRows('s1', 2);
    await expect(store.waitRows('s1', 3, { timeoutMs: 100 })).rejects.toThrow('stream "s1": fewer than 3 report rows within 100 ms');
  });

  it('defines its scripts once per client and runs them by SHA after the first call', async () => {
    const client = new Redis(inject('redisUrl'));
    try {
      const define = vi.spyOn(client, 'defineCommand');
      const send = vi.spyOn(client, 'sendCommand');
      const prefix = randomPrefix('scripts');
      const a = new StreamRegister(client, prefix);
      const b = new StreamRegister(client, prefix);
      expect(define.mock.calls.map((c) => c[0])).toEqual(['oneadaptClaim', 'oneadaptCommit', 'oneadaptOwn', 'oneadaptEnqueued']);
      expect(typeof Reflect.get(client, 'oneadaptClaim')).toBe('function');
      await a.register(meta, k(20), { n: 0 });
      await a.claim('s1', 0);
      await b.claim('s1', 1);
      expect(await b.commit('s1', 0, { n: 1 }, k(30))).toEqual({ consumed: true, update: { version: 1, validFromSeq: 2 } });
      await a.commit('s1', 1, { n: 2 }, k(30));
      expect(define).toHaveBeenCalledTimes(4);
      // ioredis sends the script text once per connection (EVAL), its SHA after (EVALSHA).
      const scripts = send.mock.calls.map((c) => c[0]).filter((c) => c.name === 'eval' || c.name === 'evalsha');
      expect(scripts.map((c) => c.name)).toEqual(['eval', 'evalsha', 'eval', 'evalsha']);
      expect(await client.script('EXISTS', luaSha('claim.lua'), luaSha('commit.lua'))).toEqual([1, 1]);
      await Promise.all([a.close(), b.close()]);
    } finally {
      client.disconnect();
    }
  });
});
