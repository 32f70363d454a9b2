import { encodedKnobs, knobsLabel, type KnobsLabel } from '../knobs/encode.js';
import type { KnobSpaces } from '../knobs/space.js';
import type { SegmentRow } from '../records/segment-row.js';
import { referenceSetting } from '../knobs/space.js';

export interface Report {
  video: string;
  streamId: string;
  policy: string;
  model: string;
  segments: number;
  totals: {
    /** Seconds of video covered. */
    durationS: number;
    /** Everything the stream sent: its segments and the policy's audits. */
    bytes: number;
    /** The policy's audits' share of `bytes` (frames at reference quality). */
    auditBytes: number;
    /** Frames inferred, the audits' included. */
    framesInferred: number;
    inferMs: number;
    gradMs: number;
    probeEncodeMs: number;
    encodeMs: number;
    /** Mean of the audited segments' F1 (null when none was audited). */
    f1: number | null;
    failedSegments: number;
  };
  /** The reference configuration and its bytes over the audited segments (null if none). */
  reference: { knobs: KnobsLabel; bytes: number | null; segments: number };
  updates: { version: number; validFromSeq: number; afterSeq: number; knobs: KnobsLabel }[];
  perSegment: SegmentRow[];
}

export function buildReport(input: {
  video: string;
  streamId: string;
  policy: string;
  model: string;
  sourceWidth: number;
  sourceHeight: number;
  spaces: KnobSpaces;
  analysisFps: number;
  rows: SegmentRow[];
  updates: Report['updates'];
}): Report {
  const rows = [...input.rows].sort((a, b) => a.seq - b.seq);
  const sum = (f: (r: SegmentRow) => number) => rows.reduce((s, r) => s + f(r), 0);
  const audited = rows.filter((r) => r.f1 !== null);
  return {
    video: input.video,
    streamId: input.streamId,
    policy: input.policy,
    model: input.model,
    segments: rows.length,
    totals: {
      durationS: sum((r) => r.slots) / input.analysisFps,
      bytes: sum((r) => r.bytes + (r.auditBytes ?? 0)),
      auditBytes: sum((r) => r.auditBytes ?? 0),
      framesInferred: sum((r) => r.frames + (r.auditBytes !== undefined ? 1 : 0)),
      inferMs: sum((r) => r.inferMs),
      gradMs: sum((r) => r.gradMs),
      probeEncodeMs: sum((r) => r.probeMs),
      encodeMs: sum((r) => r.encodeMs),
      f1: audited.length > 0 ? audited.reduce((s, r) => s + (r.f1 as number), 0) / audited.length : null,
      failedSegments: rows.filter((r) => r.error !== undefined).length,
    },
    reference: {
      knobs: knobsLabel(encodedKnobs(referenceSetting(input.spaces), input.sourceWidth, input.sourceHeight)),
      bytes: rows.some((r) => typeof r.refBytes === 'number') ? sum((r) => r.refBytes ?? 0) : null,
      segments: rows.filter((r) => typeof r.refBytes === 'number').length,
    },
    updates: input.updates,
    perSegment: rows,
  };
}

/** A fixed-width summary table for the terminal. */
export function summaryTable(reports: Report[]): string {
  const head = ['video', 'policy', 'segments', 'KiB', 'kbit/s', 'vs ref', 'audits', 'frames', 'F1', 'infer ms/frame', 'grad/infer', 'probe/encode', 'failed'];
  const lines = reports.map((r) => {
    return [
      r.video.split('/').pop() ?? r.video,
      r.policy,
      String(r.segments),
      (r.totals.bytes / 1024).toFixed(1),
      ((r.totals.bytes * 8) / 1000 / Math.max(r.totals.durationS, 1e-9)).toFixed(1),
      r.reference.bytes && r.reference.segments === r.segments ? `${(r.totals.bytes / r.reference.bytes).toFixed(3)}x` : '-',
      r.totals.auditBytes > 0 ? `${((100 * r.totals.auditBytes) / Math.max(1, r.totals.bytes)).toFixed(1)}%` : '-',
      String(r.totals.framesInferred),
      r.totals.f1 === null ? '-' : r.totals.f1.toFixed(3),
      (r.totals.inferMs / Math.max(1, r.totals.framesInferred)).toFixed(1),
      r.totals.gradMs > 0 ? (r.totals.gradMs / Math.max(1e-9, r.totals.inferMs)).toFixed(3) : '-',
      r.totals.probeEncodeMs > 0 ? (r.totals.probeEncodeMs / Math.max(1e-9, r.totals.encodeMs)).toFixed(2) : '-',
      String(r.totals.failedSegments),
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
  return [fmt(head), fmt(widths.map((w) => '-'.repeat(w))), ...lines.map(fmt)].join('\n');
}
