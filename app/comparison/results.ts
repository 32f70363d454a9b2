import { expandToSlots } from '../../src/accuracy/f1.js';
import { meanAveragePrecision } from '../../src/accuracy/map.js';
import { encodedKnobs, knobsLabel } from '../../src/knobs/encode.js';
import type { KnobSetting, KnobSpaces } from '../../src/knobs/space.js';
import type { Detection } from '../../src/models/types.js';
import { buildReport, type Report } from '../../src/report/report.js';
import type { PolicyTrace } from './drive.js';
import type { LabOutcome, SegmentLab } from './segment-lab.js';
import type { RunSpec } from './specs.js';
import type { VideoRun } from './summary.js';

/** Predicted and reference detections of every analysis slot of a run on one video. */
export interface SlotDetections {
  predicted: Detection[][];
  reference: Detection[][];
}

/** A trace reduced for the summary, with its per-slot detections for the pooled mAP. */
export async function videoRunOf(lab: SegmentLab, trace: PolicyTrace<LabOutcome>, classes: ReadonlySet<number>, segmentSeconds: number): Promise<{ run: VideoRun; slots: SlotDetections }> {
  const predicted: Detection[][] = [];
  const reference: Detection[][] = [];
  for (const row of trace.rows) {
    const ref = await lab.reference(row.seq);
    predicted.push(...expandToSlots(row.outcome.detections, row.outcome.slots));
    reference.push(...ref.detections);
  }
  return {
    run: {
      video: lab.footage.name,
      durationS: trace.rows.length * segmentSeconds,
      // A policy's audits are part of what it costs: their bytes and frames count as its own.
      segments: trace.rows.map((r) => ({
        seq: r.seq,
        setting: r.setting,
        bytes: r.outcome.bytes + (r.audit?.bytes ?? 0),
        frames: r.outcome.frames + (r.audit ? 1 : 0),
        slots: r.outcome.slots,
        f1: r.outcome.f1,
        auditBytes: r.audit?.bytes ?? 0,
      })),
      map: meanAveragePrecision(predicted, reference, classes),
      overheadMs: trace.rows.reduce((s, r) => s + r.probeMs + r.gradMs + r.profileMs, 0),
      profileFrames: trace.rows.reduce((s, r) => s + r.profileFrames, 0),
      adaptationDelaysS: trace.adaptationDelaysS,
    },
    slots: { predicted, reference },
  };
}

/** The report (docs/report.md) of a run on one video, plus what the bench adds under `bench`. */
export function benchReport(
  lab: SegmentLab,
  trace: PolicyTrace<LabOutcome>,
  run: RunSpec,
  video: VideoRun,
  o: { model: string; spaces: KnobSpaces; analysisFps: number; refBytes: number[] },
): Report & { bench: Record<string, unknown> } {
  const { width, height } = lab.footage;
  const label = (s: KnobSetting) => knobsLabel(encodedKnobs(s, width, height));
  const report = buildReport({
    video: lab.footage.path,
    streamId: `${lab.footage.name}-${run.spec}`,
    policy: trace.policy,
    model: o.model,
    sourceWidth: width,
    sourceHeight: height,
    spaces: o.spaces,
    analysisFps: o.analysisFps,
    rows: trace.rows.map((r) => ({
      seq: r.seq,
      knobs: label(r.setting),
      knobVersion: r.knobVersion,
      bytes: r.outcome.bytes,
      frames: r.outcome.frames,
      slots: r.outcome.slots,
      detections: lab.detectionsOfInterest(r.outcome),
      proxy: r.outcome.proxy,
      f1: r.outcome.f1,
      ...(r.audit ? { auditBytes: r.audit.bytes, auditF1: r.audit.f1 } : {}),
      refBytes: o.refBytes[r.seq] ?? null,
      decodeMs: r.outcome.decodeMs,
      inferMs: r.outcome.inferMs,
      gradMs: r.gradMs,
      probeMs: r.probeMs,
      encodeMs: r.outcome.encodeMs,
    })),
    updates: trace.updates.map((u) => ({ version: u.version, validFromSeq: u.validFromSeq, afterSeq: u.afterSeq, knobs: label(u.setting) })),
  });
  return {
    ...report,
    bench: {
      spec: run.spec,
      lambda: run.lambda,
      resource: run.resource,
      map: video.map,
      profileMs: trace.rows.reduce((s, r) => s + r.profileMs, 0),
      profileFrames: video.profileFrames,
      adaptationDelaysS: video.adaptationDelaysS,
      audits: trace.rows.filter((r) => r.audit).map((r) => ({ seq: r.seq, bytes: r.audit!.bytes, f1: r.audit!.f1 })),
      policyStates: trace.rows.map((r) => ({ seq: r.seq, state: r.state ?? null })),
    },
  };
}
