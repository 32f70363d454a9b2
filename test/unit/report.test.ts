import { describe, expect, it } from 'vitest';
import { DEFAULT_SPACES } from '../../src/knobs/space.js';
import type { SegmentRow } from '../../src/records/segment-row.js';
import { buildReport, summaryTable } from '../../src/report/report.js';

const row = (seq: number, f1: number | null, refBytes: number | null): SegmentRow => ({
  seq,
  knobs: { qp: 28, resolution: '320x240', fps: 10, roi: 0 },
  knobVersion: 0,
  bytes: 1000 + seq,
  frames: 10,
  slots: 10,
  detections: 1,
  proxy: 1,
  f1,
  refBytes,
  decodeMs: 4,
  inferMs: 50,
  gradMs: 5,
  probeMs: 20,
  encodeMs: 10,
});

describe('report', () => {
  it('sums the rows, averages audited F1 and keeps the reference bytes', () => {
    const r = buildReport({
      video: 'v.mp4',
      streamId: 's',
      policy: 'oneadapt',
      model: 'yolox-nano',
      sourceWidth: 320,
      sourceHeight: 240,
      spaces: DEFAULT_SPACES,
      analysisFps: 10,
      rows: [row(1, 0.5, 4000), row(0, 1, 4000)],
      updates: [],
    });
    expect(r.perSegment.map((x) => x.seq)).toEqual([0, 1]);
    expect(r.totals).toMatchObject({ durationS: 2, bytes: 2001, framesInferred: 20, inferMs: 100, gradMs: 10, probeEncodeMs: 40, encodeMs: 20, f1: 0.75, failedSegments: 0 });
    expect(r.reference).toEqual({ knobs: { qp: 20, resolution: '320x240', fps: 10, roi: 0 }, bytes: 8000, segments: 2 });
    const table = summaryTable([r]);
    // bytes vs reference, gradient ÷ inference, probe ÷ encode.
    expect(table).toMatch(/0\.250x/);
    expect(table).toMatch(/0\.100/);
    expect(table).toMatch(/2\.00/);
  });

  it('has no F1 or reference without audits', () => {
    const r = buildReport({ video: 'v', streamId: 's', policy: 'p', model: 'm', sourceWidth: 320, sourceHeight: 240, spaces: DEFAULT_SPACES, analysisFps: 10, rows: [row(0, null, null)], updates: [] });
    expect(r.totals.f1).toBeNull();
    expect(r.reference.bytes).toBeNull();
  });
});
