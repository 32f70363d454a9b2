import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { checkDashboardBind, hostOfHeader, isLoopbackHost } from '../../app/dashboard/auth.js';
import { DEFAULT_SPACES } from '../../src/knobs/space.js';
import { watchStreamEvents, WATCHER_NAME, type StreamEvent } from '../../src/queue/stream-events.js';
import { StreamRegister } from '../../src/queue/stream-register.js';
import type { SegmentRow } from '../../src/records/segment-row.js';
import { randomPrefix } from '../support/random.js';

const knobs = { qp: 20, resolution: 1, fps: 10, roi: 0, width: 320, height: 240 };
const meta = (streamId: string) => ({ streamId, source: 'x.mp4', sourceWidth: 320, sourceHeight: 240, policy: 'fixed:', model: 'yolox-nano', segmentSeconds: 1, analysisFps: 10, spaces: DEFAULT_SPACES });
const row = (seq: number): SegmentRow => ({ seq, knobs: { qp: 20, resolution: '320x240', fps: 10, roi: 0 }, knobVersion: 0, bytes: 10, frames: 10, slots: 10, detections: 0, proxy: 1, f1: null, refBytes: null, decodeMs: 0, inferMs: 0, gradMs: 0, encodeMs: 0, probeMs: 0 });

/** Resolves with the first `n` events, or rejects after `ms`. */
function collect(events: StreamEvent[], n: number, ms = 5000): Promise<StreamEvent[]> {
  const until = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const check = () => (events.length >= n ? resolve(events.slice(0, n)) : Date.now() > until ? reject(new Error(`${events.length} of ${n} events: ${JSON.stringify(events)}`)) : setTimeout(check, 20));
    check();
  });
}

describe("the dashboard's view of Redis: every stream's announcements on one subscription", () => {
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(inject('redisUrl'));
  });
  afterAll(async () => redis?.quit());

  it("hears every stream's commits and rows, new streams included, and resyncs after a dropped connection", async () => {
    const register = new StreamRegister(redis, randomPrefix('events'));
    const events: StreamEvent[] = [];
    let resyncs = 0;
    const watch = watchStreamEvents(redis, register, (e) => events.push(e), () => resyncs++);
    try {
      await watch.ready;
      for (const id of ['cam-1', 'cam.2']) await register.register(meta(id), knobs, null);
      await register.recordRow('cam-1', 0, row(0));
      expect(await register.commit('cam-1', 0, { n: 1 }, { ...knobs, qp: 28 })).toMatchObject({ consumed: true, update: { version: 1 } });
      await register.recordRow('cam.2', 0, row(0));
      expect(await collect(events, 3)).toEqual([
        { streamId: 'cam-1', kind: 'row', seq: 0 },
        { streamId: 'cam-1', kind: 'consumed', seq: 0 },
        { streamId: 'cam.2', kind: 'row', seq: 0 },
      ]);
      // Another deployment's prefix on the same Redis is not heard.
      await new StreamRegister(redis, randomPrefix('other')).recordRow('cam-1', 5, row(5));

      // The subscriber's connection dies (a Redis restart, a network cut): it comes back and says so.
      const list = String(await redis.client('LIST'));
      const id = list.split('\n').find((l) => l.includes(`name=${WATCHER_NAME}`) && / psub=2 /.test(l))?.match(/id=(\d+)/)?.[1];
      expect(id).toBeDefined();
      await redis.client('KILL', 'ID', id!);
      await expect.poll(() => resyncs, { timeout: 10_000 }).toBe(1);
      await register.recordRow('cam-1', 1, row(1));
      expect((await collect(events, 4))[3]).toEqual({ streamId: 'cam-1', kind: 'row', seq: 1 });
      expect(events).toHaveLength(4);
    } finally {
      watch.close();
      await register.close();
    }
  });

  it('reads stream ids back from hash-tagged channel names (Redis Cluster) and from prefixes with glob characters', async () => {
    // A register whose client says it is a cluster names its channels as it would there.
    const clusterLike = Object.create(redis, { isCluster: { value: true } }) as Redis;
    const prefix = `${randomPrefix('glob')}[x]*`;
    const register = new StreamRegister(clusterLike, prefix);
    expect(register.consumedChannel('cam-9')).toBe(`${prefix}:oa:stream:{cam-9}:consumed`);
    const events: StreamEvent[] = [];
    const watch = watchStreamEvents(redis, register, (e) => events.push(e), () => undefined);
    try {
      await watch.ready;
      // `[x]*` is literal here: a channel it would match as a glob is not this prefix.
      await redis.publish(`${prefix.slice(0, -4)}x-anything:oa:stream:{cam-8}:consumed`, '1');
      await redis.publish(register.consumedChannel('cam-9'), '7');
      await redis.publish(register.rowsChannel('cam-9'), 'not a number');
      await redis.publish(register.rowsChannel('cam-9'), '8');
      expect(await collect(events, 2)).toEqual([
        { streamId: 'cam-9', kind: 'consumed', seq: 7 },
        { streamId: 'cam-9', kind: 'row', seq: 8 },
      ]);
    } finally {
      watch.close();
    }
  });

  it('tells loopback binds and Host headers from the others, and refuses a bind off loopback without a strong token', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', 'LOCALHOST', 'app.localhost', '::ffff:127.0.0.1']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.2', 'example.com', 'localhost.example.com', '128.0.0.1', '']) expect(isLoopbackHost(h), h).toBe(false);
    expect(hostOfHeader('127.0.0.1:8080')).toBe('127.0.0.1');
    expect(hostOfHeader('[::1]:8080')).toBe('::1');
    expect(hostOfHeader('localhost')).toBe('localhost');
    expect(() => checkDashboardBind('127.0.0.1', undefined)).not.toThrow();
    expect(() => checkDashboardBind('0.0.0.0', undefined)).toThrow(/0\.0\.0\.0, which is not a loopback address: set ONEADAPT_DASHBOARD_TOKEN/);
    expect(() => checkDashboardBind('0.0.0.0', 'short')).toThrow(/at least 16 characters/);
    expect(() => checkDashboardBind('0.0.0.0', 'a-token-long-enough-1')).not.toThrow();
  });
});
