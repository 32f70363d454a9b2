import { beforeAll, describe, expect, it } from 'vitest';
import { enqueueArchives } from '../../app/enqueue.js';
import { startRoles } from '../../app/roles.js';
import { waitForRows } from '../../app/stream-progress.js';
import { ingestJobId } from '../../src/queue/names.js';
import { HIGHWAY, highwayClip, missingFootage } from '../support/footage.js';
import { missingModel } from '../support/models.js';
import { pipelineConfig } from '../support/pipeline-config.js';
import { checkStream, expectIntact, trackScenarios } from './checker.js';

const scenario = trackScenarios();

describe.skipIf(missingFootage(HIGHWAY) ?? missingModel('fastestdet'))('up stops without waiting for whole archives', () => {
  const config = pipelineConfig('drain', { ONEADAPT_MODEL: 'fastestdet' });
  let clip: string;
  beforeAll(async () => {
    clip = await highwayClip(8);
  });

  it('drains the segment in flight, puts the archive job back, and a restart finishes the stream', async () => {
    const opts = { log: () => undefined, gradients: false };
    const first = await startRoles(config, ['worker', 'coordinator', 'ingest'], opts);
    const [stream] = await enqueueArchives(first.runtime, [clip], { policy: 'fixed:qp=30' });
    await waitForRows(first.runtime, stream.streamId, 2, 60_000);
    const t0 = Date.now();
    await first.close();
    const closeMs = Date.now() - t0;
    // A bound, not a speed goal: well under the 8 segments the archive still had.
    expect(closeMs).toBeLessThan(20_000);

    const second = await startRoles(config, ['worker', 'coordinator', 'ingest'], opts);
    try {
      const job = await second.runtime.queues.ingest.getJob(ingestJobId(stream.streamId));
      // Put back without spending an attempt; not failed, not completed.
      expect(['delayed', 'waiting', 'active']).toContain(await job?.getState());
      expect(job?.attemptsMade).toBe(0);
      let meta = await second.runtime.streams.meta(stream.streamId);
      for (let i = 0; i < 600 && meta?.totalSegments === undefined; i++) {
        await new Promise((r) => setTimeout(r, 100));
        meta = await second.runtime.streams.meta(stream.streamId);
      }
      expect(meta?.totalSegments).toBe(8);
      await waitForRows(second.runtime, stream.streamId, 8, 60_000);
      const rows = await second.runtime.streams.rows(stream.streamId);
      expect(rows.map((r) => [r.seq, r.error])).toEqual(Array.from({ length: 8 }, (_, seq) => [seq, undefined]));
      const check = await checkStream(second.runtime, stream.streamId);
      scenario.figures({ faults: 1, ...check });
      expectIntact(check);
    } finally {
      await second.close();
    }
  });
});
