import type { KnobName, KnobSetting, KnobSpaces } from '../knobs/space.js';
import type { KnobTerms } from './accgrad.js';

/** What a policy learns about one processed segment. */
export interface SegmentFeedback {
  seq: number;
  setting: KnobSetting;
  bytes: number;
  frames: number;
  proxy: number;
  f1: number | null;
  /**
   * The policy's own audit (asked for by its previous decision): F1 of the segment's sampled
   * frame against a reference-quality copy of it, whose bytes are charged to the stream.
   */
  auditF1?: number | null;
  /** Bytes that audit sent (charged to the stream). */
  auditBytes?: number;
  /** AccGrad terms per knob (probed segments only). */
  gradients?: KnobTerms[];
  /** Set when the segment failed; policies should not learn from it. */
  error?: string;
}

export interface PolicyContext {
  spaces: KnobSpaces;
  sourceWidth: number;
  sourceHeight: number;
  /** Seconds per segment (profiling delays are counted in seconds); 1 when absent. */
  segmentSeconds?: number;
  /** Set when the stream belongs to a fleet: the fleet's prices as this stream sees them. */
  fleet?: FleetView;
}

/**
 * What a fleet tells one member (src/adapt/fleet-price.ts): the fleet's shared prices, already
 * divided by the member's weight. A budgeted resource without a price yet (the fleet's first
 * results) has `budget…` set and no price: the member then steps at its own stationary price.
 */
export interface FleetView {
  /** F1 per kbit/s of uplink; the fleet has a bandwidth budget when `budgetBw`. */
  budgetBw: boolean;
  priceBw?: number;
  /** F1 per frame inferred per second; the fleet has a GPU budget when `budgetGpu`. */
  budgetGpu: boolean;
  priceGpu?: number;
  /** Whether the member's own floor (target-f1) is honoured; priorities decide when not all fit. */
  floorHonoured: boolean;
  /** log(spend / budget) of the fleet as last counted (> 0: over budget), per budgeted resource. */
  pressureBw?: number;
  pressureGpu?: number;
}

/** What a member's step tells its fleet besides its measured rates. */
export interface FleetReport {
  /** The member's floor holds it above where the fleet price alone would put it. */
  floorBound?: boolean;
  /** Prices (F1 per kbit/s, per frame/s) at which its operating point is stationary: the fleet's first price. */
  priceHintBw?: number;
  priceHintGpu?: number;
  /**
   * What its next segment should cost relative to this one, by the probe's own measurements of
   * the levels it moves to (bytes; frames inferred): the fleet steps its price on what members
   * are about to spend, not on what they spent a step ago.
   */
  nextRatioBw?: number;
  nextRatioGpu?: number;
}

/** Configurations a profiling policy wants measured on one segment's content. */
export interface ProfileRequest {
  seq: number;
  settings: KnobSetting[];
}

/** Real-inference measurements answering a ProfileRequest; F1 is against the reference. */
export interface ProfileResponse {
  seq: number;
  refBytes: number;
  refFrames: number;
  results: { setting: KnobSetting; bytes: number; frames: number; f1: number }[];
}

export interface PolicyDecision<S> {
  state: S;
  setting: KnobSetting;
  /** Set by profiling policies: measure these, then call `profiled` before the next segment. */
  profile?: ProfileRequest;
  /**
   * Asks for an audit of the segments this decision applies to: the ingest also sends their
   * sampled frame at reference quality, and the result brings its F1 (`auditF1`).
   */
  audit?: boolean;
  /** Set when a decision is made: which segment's content it rests on, and where it applies. */
  adaptation?: { contentSeq: number; applyFromSeq: number };
  /** A fleet member's report to its fleet (policies that follow a fleet price). */
  fleet?: FleetReport;
}

/**
 * A knob policy, pure: the coordinator keeps its state in Redis between calls, so a policy
 * never holds anything itself. `step` sees segments in increasing seq order, once each.
 */
export interface Policy<S = unknown> {
  readonly name: string;
  /** Whether segments need the ingest's probe and the worker's gradient sample. */
  readonly needsGradients?: boolean;
  /** The knobs whose cheaper variant the probe must encode (default: every knob). */
  readonly probedKnobs?: readonly KnobName[];
  /** Whether the probe must also measure the reference encode's distortion (Probe.reference). */
  readonly probesReference?: boolean;
  initial(ctx: PolicyContext): PolicyDecision<S>;
  step(state: S, feedback: SegmentFeedback, ctx: PolicyContext): PolicyDecision<S>;
  /** Takes a ProfileResponse to the last decision's `profile`; may ask for another round. */
  profiled?(state: S, response: ProfileResponse, ctx: PolicyContext): PolicyDecision<S>;
}

/**
 * Whether the region of interest goes with a setting to the ingest: it encodes with it
 * (roi > 0) or probes one step up the roi ladder (a gradient policy that adapts roi).
 */
export function carriesRegion(policy: Policy, setting: KnobSetting, spaces: KnobSpaces): boolean {
  if (setting.roi > 0) return true;
  return policy.needsGradients === true && (policy.probedKnobs ?? ['roi']).includes('roi') && spaces.roi.length > 1;
}
