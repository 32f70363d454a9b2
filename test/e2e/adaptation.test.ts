import { describe, expect, it } from 'vitest';
import { runVideos } from '../../app/run-job.js';
import type { Report } from '../../src/report/report.js';
import { DASHCAM, HIGHWAY, missingFootage } from '../support/footage.js';
import { pipelineConfig } from '../support/pipeline-config.js';

/** Each row carries the knobs of the newest update valid at its seq (or the initial ones). */
function assertUpdatesAppliedInOrder(r: Report): void {
  const versions = r.updates.map((u) => u.version);
  expect(versions).toEqual(versions.map((_, i) => i + 1));
  for (let i = 1; i < r.updates.length; i++) expect(r.updates[i].validFromSeq).toBeGreaterThan(r.updates[i - 1].validFromSeq);
  for (const u of r.updates) expect(u.validFromSeq).toBe(u.afterSeq + 1);
  for (const row of r.perSegment) {
    const applicable = r.updates.filter((u) => u.validFromSeq <= row.seq).pop();
    expect(row.knobVersion, `${r.streamId} segment ${row.seq}`).toBe(applicable?.version ?? 0);
    if (applicable) expect(row.knobs).toEqual(applicable.knobs);
    else expect(row.knobs).toEqual(r.reference.knobs);
  }
}

describe.skipIf(missingFootage(HIGHWAY, DASHCAM))('two streams adapting concurrently', () => {
  it('keeps one optimizer state per stream and applies each stream\'s updates in order', async () => {
    const config = pipelineConfig('adapt');
    const reports = await runVideos(config, { videos: [HIGHWAY, DASHCAM], policy: 'oneadapt', maxSegments: 6, log: () => undefined });
    expect(reports).toHaveLength(2);
    const [highway, dashcam] = reports;
    expect(highway.streamId).not.toBe(dashcam.streamId);
    for (const r of reports) {
      expect(r.segments).toBe(6);
      expect(r.totals.failedSegments).toBe(0);
      // Every (full) segment is probed and sampled: gradient terms and a gradient time. The
      // first has no region of interest yet (no result was in), so no roi term.
      const knobsProbed = r.perSegment.map((row) => (row as { gradients?: { knob: string }[] }).gradients?.map((g) => g.knob).join('+'));
      expect(knobsProbed[0]).toBe('qp+resolution+fps');
      expect(knobsProbed.slice(1).every((k) => k === 'qp+resolution+fps+roi')).toBe(true);
      expect(r.totals.gradMs).toBeGreaterThan(0);
      expect(r.totals.probeEncodeMs).toBeGreaterThan(0);
      // The optimizer moved off the reference: adaptation happened.
      expect(r.updates.length).toBeGreaterThan(0);
      assertUpdatesAppliedInOrder(r);
    }
    // Independent trajectories: different sources, different sizes, different updates.
    expect(highway.updates.map((u) => u.knobs)).not.toEqual(dashcam.updates.map((u) => u.knobs));
    expect(highway.reference.knobs.resolution).toBe('320x240');
    expect(dashcam.reference.knobs.resolution).toBe('960x540');
  });
});

describe.skipIf(missingFootage(HIGHWAY))('a stream with a target F1', () => {
  it('audits through the pipeline when its policy asks, and charges the audit to the stream', async () => {
    const config = pipelineConfig('target');
    const [r] = await runVideos(config, { videos: [HIGHWAY], policy: 'oneadapt:target-f1=0.9', maxSegments: 6, log: () => undefined });
    // The first busy segment (0) asks for an audit of the next one; the second comes 4 later.
    const audited = r.perSegment.filter((row) => row.auditBytes !== undefined).map((row) => row.seq);
    expect(audited).toEqual([1, 5]);
    for (const seq of audited) {
      const row = r.perSegment[seq];
      expect(row.auditF1).toBeGreaterThanOrEqual(0);
      expect(row.auditF1).toBeLessThanOrEqual(1);
      // One frame at reference QP: more than nothing, less than the reference segment.
      expect(row.auditBytes).toBeGreaterThan(1000);
      expect(row.auditBytes).toBeLessThan(row.refBytes ?? Infinity);
    }
    const segments = r.perSegment.reduce((s, row) => s + row.bytes, 0);
    expect(r.totals.auditBytes).toBe(audited.reduce((s, seq) => s + (r.perSegment[seq].auditBytes ?? 0), 0));
    expect(r.totals.bytes).toBe(segments + r.totals.auditBytes);
    expect(r.totals.framesInferred).toBe(r.perSegment.reduce((s, row) => s + row.frames, 0) + audited.length);
  }, 120_000);
});
