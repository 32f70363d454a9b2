import { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { runVideos } from '../../app/run-job.js';
import { bullConnection } from '../../src/queue/connection.js';
import { RESULT_QUEUE, SEGMENT_QUEUE } from '../../src/queue/names.js';
import { createS3Storage } from '../../src/storage/s3.js';
import { resultsKey } from '../../src/storage/keys.js';
import { HIGHWAY, missingFootage } from '../support/footage.js';
import { pipelineConfig } from '../support/pipeline-config.js';

describe.skipIf(missingFootage(HIGHWAY))('full pipeline on the highway clip', () => {
  it('processes every segment once and applies each update from the segment it names', async () => {
    const config = pipelineConfig('e2e');
    const [report] = await runVideos(config, {
      videos: [HIGHWAY],
      policy: 'script:5@qp=32;15@resolution=0.5,fps=5',
      log: () => undefined,
    });

    // 30 s at 1-s segments: 30 segments, each with exactly one row, none failed.
    expect(report.segments).toBe(30);
    expect(report.perSegment.map((r) => r.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(report.totals.failedSegments).toBe(0);
    const connection = bullConnection(config.redisUrl!);
    for (const name of [SEGMENT_QUEUE, RESULT_QUEUE]) {
      const q = new Queue(name, { connection, prefix: config.queuePrefix });
      const counts = await q.getJobCounts('completed', 'failed', 'waiting', 'active');
      await q.close();
      expect(counts).toEqual({ completed: 30, failed: 0, waiting: 0, active: 0 });
    }

    // Two updates, each valid from the segment after the result that caused it.
    expect(report.updates.map((u) => [u.afterSeq, u.validFromSeq])).toEqual([[5, 6], [15, 16]]);
    for (const row of report.perSegment) {
      const expected = row.seq < 6 ? { qp: 20, resolution: '320x240', fps: 10, roi: 0 } : row.seq < 16 ? { qp: 32, resolution: '320x240', fps: 10, roi: 0 } : { qp: 32, resolution: '160x120', fps: 5, roi: 0 };
      expect(row.knobs, `segment ${row.seq}`).toEqual(expected);
      expect(row.knobVersion).toBe(row.seq < 6 ? 0 : row.seq < 16 ? 1 : 2);
      expect(row.frames).toBe(row.seq < 16 ? 10 : 5);
    }

    // Cars are found, and stored per frame in S3.
    expect(report.perSegment.every((r) => r.proxy > 0)).toBe(true);
    const store = createS3Storage({ ...config.s3 });
    const lines = (await store.get(resultsKey(report.streamId, 0))).toString().trim().split('\n');
    expect(lines).toHaveLength(10);
    expect(lines.some((l) => (JSON.parse(l) as { detections: { label: string }[] }).detections.some((d) => d.label === 'car'))).toBe(true);

    // Reference segments agree with themselves; cheaper ones less so.
    expect(report.perSegment.slice(0, 6).every((r) => r.f1 === 1)).toBe(true);
    const late = report.perSegment.slice(16).map((r) => r.f1 as number);
    expect(late.reduce((a, b) => a + b, 0) / late.length).toBeLessThan(1);

    // Totals are the sums of the rows.
    const sum = (f: (r: (typeof report.perSegment)[number]) => number) => report.perSegment.reduce((s, r) => s + f(r), 0);
    expect(report.totals.bytes).toBe(sum((r) => r.bytes));
    expect(report.totals.framesInferred).toBe(sum((r) => r.frames));
    expect(report.totals.inferMs).toBeCloseTo(sum((r) => r.inferMs), 6);
    expect(report.totals.encodeMs).toBeCloseTo(sum((r) => r.encodeMs), 6);
    expect(report.totals.f1).toBeCloseTo(sum((r) => r.f1 ?? 0) / 30, 9);
  });

  it('coarsens what lies outside the region the worker found, from the segment after the update', async () => {
    const config = pipelineConfig('e2e-roi');
    const [report] = await runVideos(config, { videos: [HIGHWAY], policy: 'script:2@roi=12', maxSegments: 6, log: () => undefined });
    expect(report.totals.failedSegments).toBe(0);
    // The level changes once; every later result moves the region, so each is an update too.
    expect(report.updates[0]).toMatchObject({ afterSeq: 2, validFromSeq: 3, knobs: { qp: 20, roi: 12 } });
    expect(report.updates.map((u) => u.afterSeq)).toEqual([2, 3, 4, 5]);
    for (const row of report.perSegment) {
      // Until then a segment IS the reference encode of its frames; after it, the same QP inside
      // the region and 12 more outside cost clearly fewer bytes, and the cars are still found.
      if (row.seq < 3) expect(row.bytes, `segment ${row.seq}`).toBe(row.refBytes);
      else expect(row.bytes, `segment ${row.seq}`).toBeLessThan(0.9 * (row.refBytes as number));
      expect(row.knobs.roi).toBe(row.seq < 3 ? 0 : 12);
      expect(row.f1 as number).toBeGreaterThan(0.6);
    }
  });
});
