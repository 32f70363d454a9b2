import type { KnobTerms } from '../../src/adapt/accgrad.js';
import { carriesRegion, type Policy, type PolicyContext, type ProfileRequest, type ProfileResponse } from '../../src/adapt/policy.js';
import { sameSetting, type KnobName, type KnobSetting } from '../../src/knobs/space.js';

/** A segment encoded, decoded and inferred at one configuration. */
export interface SegmentOutcome {
  bytes: number;
  frames: number;
  slots: number;
  f1: number;
  proxy: number;
  inferMs: number;
  encodeMs: number;
}

/** What a policy run needs from one video; the bench backs it with real media and inference. */
export interface StreamPort<O extends SegmentOutcome = SegmentOutcome> {
  segments: number;
  ctx: PolicyContext;
  /** `roiMask`: the run's region of interest (knobs/roi wire form), for settings with roi > 0. */
  evaluate(seq: number, setting: KnobSetting, roiMask?: string): Promise<O>;
  /** The InputGrad probe (of `knobs`, default all) and the fused-gradient sample of the segment as encoded. */
  gradients(
    seq: number,
    setting: KnobSetting,
    outcome: O,
    opts?: { roiMask?: string; knobs?: readonly KnobName[]; reference?: boolean },
  ): Promise<{ terms: KnobTerms[]; probeMs: number; gradMs: number; proxy: number; saliency?: Float32Array }>;
  profile(request: ProfileRequest): Promise<{ response: ProfileResponse; ms: number }>;
  /** The policy's audit of a segment: its sampled frame sent again at reference quality (bytes charged). */
  audit?(seq: number, outcome: O): Promise<{ f1: number; bytes: number }>;
  /** The region of interest the worker would send after this outcome (absent: the port has none). */
  region?(outcome: O, saliency?: Float32Array): string;
}

export interface TraceRow<O extends SegmentOutcome = SegmentOutcome> {
  seq: number;
  setting: KnobSetting;
  knobVersion: number;
  outcome: O;
  probeMs: number;
  gradMs: number;
  profileMs: number;
  profileFrames: number;
  /** The policy's audit of this segment: bytes sent for it and the F1 it measured. */
  audit?: { bytes: number; f1: number };
  /** The policy's state after this segment (what it learned, for reports). */
  state?: unknown;
  /** The AccGrad terms the policy stepped on, and the region the segment was encoded with. */
  terms?: KnobTerms[];
  roiMask?: string;
}

export interface PolicyTrace<O extends SegmentOutcome = SegmentOutcome> {
  policy: string;
  rows: TraceRow<O>[];
  /** Seconds from the start of the segment a decision rests on to the start of the one it first steers. */
  adaptationDelaysS: number[];
  updates: { version: number; validFromSeq: number; afterSeq: number; setting: KnobSetting }[];
}

/**
 * Runs a policy over a video as production does: segment n is encoded with the knobs decided
 * after segment n−1; gradient policies get the probe and gradient sample of every whole
 * segment; profiling policies get their requests answered before the next segment is cut.
 */
export async function drivePolicy<O extends SegmentOutcome>(policy: Policy, port: StreamPort<O>, onSegment?: () => void): Promise<PolicyTrace<O>> {
  const { ctx } = port;
  const segS = ctx.segmentSeconds ?? 1;
  let decision = policy.initial(ctx);
  let state = decision.state;
  let setting = decision.setting;
  let version = 0;
  const trace: PolicyTrace<O> = { policy: policy.name, rows: [], adaptationDelaysS: [], updates: [] };
  const wholeSlots = Math.round(ctx.spaces.fps[0] * segS);
  // The run's region of interest, from its previous segment, as the worker would send it.
  let region: string | undefined;
  // Whether the last decision asked for an audit of the segment it applies to.
  let auditNext = false;
  for (let seq = 0; seq < port.segments; seq++) {
    const roiMask = setting.roi > 0 ? region : undefined;
    const outcome = await port.evaluate(seq, setting, roiMask);
    // As at the ingest: a partial segment is not probed (its bytes would not compare).
    const grad =
      policy.needsGradients && outcome.slots === wholeSlots
        ? await port.gradients(seq, setting, outcome, { roiMask: carriesRegion(policy, setting, ctx.spaces) ? region : undefined, knobs: policy.probedKnobs, reference: policy.probesReference })
        : undefined;
    region = port.region?.(outcome, grad?.saliency);
    // The policy sees only the F1 of its own (charged) audits, never the bench's ground truth.
    // As at the ingest, a partial segment is not audited.
    const audit = auditNext && port.audit && outcome.slots === wholeSlots ? await port.audit(seq, outcome) : undefined;
    decision = policy.step(state, { seq, setting, bytes: outcome.bytes, frames: outcome.frames, proxy: outcome.proxy, f1: null, auditF1: audit?.f1 ?? null, auditBytes: audit?.bytes, gradients: grad?.terms }, ctx);
    let profileMs = 0;
    let profileFrames = 0;
    while (decision.profile && policy.profiled) {
      const { response, ms } = await port.profile(decision.profile);
      profileMs += ms;
      profileFrames += response.results.reduce((s, r) => s + r.frames, 0);
      decision = policy.profiled(decision.state, response, ctx);
    }
    if (decision.adaptation) trace.adaptationDelaysS.push((decision.adaptation.applyFromSeq - decision.adaptation.contentSeq) * segS);
    else if (grad) trace.adaptationDelaysS.push(segS);
    trace.rows.push({ seq, setting, knobVersion: version, outcome, probeMs: grad?.probeMs ?? 0, gradMs: grad?.gradMs ?? 0, profileMs, profileFrames, audit, state: decision.state, terms: grad?.terms, roiMask });
    state = decision.state;
    if (!sameSetting(decision.setting, setting) && seq + 1 < port.segments) {
      version++;
      trace.updates.push({ version, validFromSeq: seq + 1, afterSeq: seq, setting: decision.setting });
    }
    setting = decision.setting;
    auditNext = decision.audit === true;
    onSegment?.();
  }
  return trace;
}
