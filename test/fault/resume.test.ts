import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../app/runtime.js';
import { DEFAULT_SPACES } from '../../src/knobs/space.js';
import { DuplicateSegmentError } from '../../src/queue/job-sinks.js';
import { segmentJobId } from '../../src/queue/names.js';
import { IngestFencedError } from '../../src/queue/stream-register.js';
import { segmentKey } from '../../src/storage/keys.js';
import { startStream } from '../../workers/ingest/start-stream.js';
import { streamDefaults } from '../../workers/ingest/stream-options.js';
import { HIGHWAY, highwayClip, missingFootage } from '../support/footage.js';
import { pipelineConfig } from '../support/pipeline-config.js';
import { trackScenarios } from './checker.js';

trackScenarios();

const k = (qp: number) => ({ qp, resolution: 1, fps: 10, roi: 0, width: 320, height: 240 });
const meta = (streamId: string) => ({ streamId, source: 'x.mp4', sourceWidth: 320, sourceHeight: 240, policy: 'fixed:', model: 'fastestdet', segmentSeconds: 1, analysisFps: 10, spaces: DEFAULT_SPACES });

describe('a fenced, resumable ingest', () => {
  let rt: Runtime;
  const config = pipelineConfig('resume', { ONEADAPT_MODEL: 'fastestdet' });
  beforeAll(async () => {
    rt = await createRuntime(config);
  });
  afterAll(async () => rt?.close());

  it('fences the ingest that owned a stream before the last takeover', async () => {
    await rt.streams.register(meta('fence'), k(20), null);
    expect(await rt.streams.takeOwnership('fence', 'a')).toBe(0);
    await rt.streams.claim('fence', 0, 'a');
    expect(await rt.streams.markEnqueued('fence', 0, 'a')).toBe(true);
    expect(await rt.streams.takeOwnership('fence', 'b')).toBe(1);
    await expect(rt.streams.claim('fence', 1, 'a')).rejects.toBeInstanceOf(IngestFencedError);
    expect(await rt.streams.markEnqueued('fence', 1, 'a')).toBe(false);
    expect((await rt.streams.claim('fence', 1, 'b')).knobs.qp).toBe(20);
  });

  it('gives a re-claimed segment the knobs valid at it, never a later update', async () => {
    await rt.streams.register(meta('reclaim'), k(20), null);
    for (const seq of [0, 1, 2]) await rt.streams.claim('reclaim', seq);
    expect(await rt.streams.commit('reclaim', 0, null, k(36))).toEqual({ consumed: true, update: { version: 1, validFromSeq: 3 } });
    // A resumed ingest encodes segment 2 again: it was claimed under version 0.
    expect(await rt.streams.claim('reclaim', 2)).toMatchObject({ version: 0, knobs: { qp: 20 } });
    expect(await rt.streams.claim('reclaim', 3)).toMatchObject({ version: 1, knobs: { qp: 36 } });
  });

  it('refuses a segment added again with other content', async () => {
    const job = { streamId: 'dup', seq: 0, segmentKey: segmentKey('dup', 0), knobs: k(20), knobVersion: 0, sourceWidth: 320, sourceHeight: 240, slots: 10, bytes: 100, encodeMs: 1, probeMs: 0 };
    await rt.segments.add(job);
    await rt.segments.add(job); // a retried add of the same segment
    await expect(rt.segments.add({ ...job, knobVersion: 1, bytes: 80 })).rejects.toBeInstanceOf(DuplicateSegmentError);
  });

  describe.skipIf(missingFootage(HIGHWAY))('on footage', () => {
    let clip: string;
    beforeAll(async () => {
      clip = await highwayClip(5);
    });
    const deps = () => ({ media: rt.media, store: rt.store, streams: rt.streams, segments: rt.segments, modelsDir: config.modelsDir });

    it('continues after the last queued segment and leaves the analysed ones alone', async () => {
      const first = await startStream(deps(), streamDefaults(config), { source: clip, streamId: 'resumed', policy: 'fixed:qp=30', lockstep: false, maxSegments: 2 });
      expect((await first.done).segments).toBe(2);
      const seg0 = await rt.store.get(segmentKey('resumed', 0));
      const lines: string[] = [];
      const again = await startStream({ ...deps(), log: (l) => lines.push(l) }, streamDefaults(config), { source: clip, streamId: 'resumed', policy: 'fixed:qp=30', lockstep: false });
      expect((await again.done).segments).toBe(3);
      expect(lines).toContain('ingest resumed: resuming at segment 2');
      expect((await rt.streams.meta('resumed'))?.totalSegments).toBe(5);
      expect(Buffer.compare(await rt.store.get(segmentKey('resumed', 0)), seg0)).toBe(0);
      const jobs = await Promise.all([0, 1, 2, 3, 4, 5].map((seq) => rt.queues.segments.getJob(segmentJobId('resumed', seq))));
      expect(jobs.map((j) => j?.data.slots)).toEqual([10, 10, 10, 10, 10, undefined]);
    });

    it('stops an ingest that another one took over (a zombie), at its next claim', async () => {
      const zombie = await startStream(deps(), streamDefaults(config), { source: clip, streamId: 'zombie', policy: 'fixed:', lockstep: true });
      // It waits for segment 0's result; meanwhile a new ingest takes the stream over.
      while ((await rt.streams.rowCount('zombie')) === 0 && (await rt.queues.segments.getJob(segmentJobId('zombie', 0))) === undefined) await new Promise((r) => setTimeout(r, 50));
      await rt.streams.takeOwnership('zombie', 'the-new-one');
      await rt.streams.commit('zombie', 0, null, undefined);
      await expect(zombie.done).rejects.toBeInstanceOf(IngestFencedError);
      expect(await rt.queues.segments.getJob(segmentJobId('zombie', 1))).toBeUndefined();
    });
  });
});
