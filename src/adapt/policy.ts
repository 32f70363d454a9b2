import type { KnobSetting, KnobSpaces } from '../knobs/space.js';

/** What a policy learns about one processed segment. */
export interface SegmentFeedback {
  seq: number;
  setting: KnobSetting;
  bytes: number;
  frames: number;
  proxy: number;
  f1: number | null;
  gradients?: {
    knob: string;
    recHq: number;
    recLq: number;
    bwHq: number;
    bwLq: number;
    gpuHq: number;
    gpuLq: number;
  }[];
  /** Set when the segment failed; policies should not learn from it. */
  error?: string;
}

export interface PolicyContext {
  spaces: KnobSpaces;
  sourceWidth: number;
  sourceHeight: number;
}

export interface PolicyDecision<S> {
  state: S;
  setting: KnobSetting;
}

/**
 * A knob policy, pure: the coordinator keeps its state in Redis between calls, so a policy
 * never holds anything itself. `step` sees segments in increasing seq order, once each.
 */
export interface Policy<S = unknown> {
  readonly name: string;
  /** Whether segments need the ingest's probe and the worker's gradient sample. */
  readonly needsGradients?: boolean;
  initial(ctx: PolicyContext): PolicyDecision<S>;
  step(state: S, feedback: SegmentFeedback, ctx: PolicyContext): PolicyDecision<S>;
}
