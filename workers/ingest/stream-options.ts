import { policyFromSpec } from '../../src/adapt/policies.js';
import type { Policy, PolicyDecision } from '../../src/adapt/policy.js';
import type { Config } from '../../src/config/config.js';
import { encodedKnobs, type EncodedKnobs } from '../../src/knobs/encode.js';
import { DEFAULT_SPACES, KnobError, validateSpaces, type KnobName, type KnobSpaces } from '../../src/knobs/space.js';
import type { VideoInfo } from '../../src/media/types.js';
import { analysisSize } from '../../src/models/analysis-size.js';
import type { ModelSpec } from '../../src/models/types.js';
import { assertStreamId, streamIdFor } from '../../src/records/stream-id.js';
import type { StreamMeta } from '../../src/records/stream.js';
import { redactUrls } from '../../src/redact.js';
import { PermanentError } from '../../src/errors.js';
import { assertFleetName, type FleetMembership } from '../../src/records/fleet.js';

// Options → defaults → compiled: every way to start a stream (`run`, `ingest`, archive jobs)
// says what it wants in a StreamRequest, fills the gaps from one StreamDefaults taken from the
// configuration, and gets one CompiledStream. No path keeps defaults of its own.

/** What a caller asks for; anything unset comes from the deployment's defaults. */
export interface StreamRequest {
  /** What the ingest reads: a local file or a live URL. */
  source: string;
  /** What the stream records as its source (an archive's s3:// URL); default `source`. */
  origin?: string;
  /** Default: derived from the origin's name (records/stream-id). */
  streamId?: string;
  /** Policy spec; default ONEADAPT_POLICY. */
  policy?: string;
  /** Catalog name or [family:]path.onnx; default ONEADAPT_MODEL. */
  model?: string;
  /** Knob ladders; default knobs/space DEFAULT_SPACES. */
  spaces?: KnobSpaces;
  /** Wait for each segment's update before the next; default: files yes, live URLs no. */
  lockstep?: boolean;
  /** Reference encode for an accuracy audit every n segments (0 = never); default 0. */
  auditEvery?: number;
  /** InputGrad probe every n segments for gradient policies; default ONEADAPT_PROBE_EVERY. */
  probeEvery?: number;
  /** Stop after n segments; default: the whole source. */
  maxSegments?: number;
  /** The fleet the stream joins (its budget is shared; src/adapt/fleet-price.ts). */
  fleet?: FleetMembership;
}

/**
 * A fleet member's policy when none is asked for: the gradient policy at the fleet's price. The
 * deployment's default (a per-stream target) would hold every camera at its own F1 floor,
 * whatever the fleet's budget; a floor is asked for explicitly (`--policy oneadapt:target-f1=X`).
 */
export const FLEET_DEFAULT_POLICY = 'oneadapt';

/** The deployment's defaults, taken from the configuration once. */
export interface StreamDefaults {
  policy: string;
  model: string;
  probeEvery: number;
  auditEvery: number;
  segmentSeconds: number;
  analysisFps: number;
  spaces: KnobSpaces;
  resultTimeoutMs: number;
}

export function streamDefaults(config: Config): StreamDefaults {
  return {
    policy: config.policy,
    model: config.model,
    probeEvery: config.probeEvery,
    auditEvery: 0,
    segmentSeconds: config.segmentSeconds,
    analysisFps: config.analysisFps,
    spaces: DEFAULT_SPACES,
    resultTimeoutMs: config.resultTimeoutMs,
  };
}

/** How the ingest cuts, encodes and probes one stream (workers/ingest/ingest). */
export interface IngestPlan {
  streamId: string;
  source: string;
  sourceWidth: number;
  sourceHeight: number;
  spaces: KnobSpaces;
  segmentSeconds: number;
  analysisFps: number;
  /**
   * Wait for segment n−1's result to be consumed before cutting segment n, so each
   * update applies to the very next segment (archived footage; deterministic runs).
   * A live source cannot wait: its updates apply from the next segment not yet claimed.
   */
  lockstep: boolean;
  /** A lockstep wait for the previous segment's result fails (and says so) after this long. */
  resultTimeoutMs: number;
  /** Also upload a reference-quality encode every N segments for the accuracy audit (0 = never). */
  auditEvery: number;
  /** Compute the InputGrad probe every N segments (0 = never; adaptive policies need it). */
  probeEvery: number;
  /** Knobs the probe varies (the policy's adapting ones); default every knob. */
  probeKnobs?: readonly KnobName[];
  /** The probe also measures the reference encode's distortion (target mode). */
  probeReference?: boolean;
  /** Size probes compare frames at (the DNN's view; see models/analysis-size). */
  analysisSize: { width: number; height: number };
  maxSegments?: number;
}

export interface CompiledStream {
  meta: StreamMeta;
  policy: Policy;
  initial: PolicyDecision<unknown>;
  initialKnobs: EncodedKnobs;
  plan: IngestPlan;
}

/**
 * The default ladders at another analysis rate (ONEADAPT_ANALYSIS_FPS): frame rates above it
 * cannot be kept, so the ladder starts at the rate itself and keeps the cheaper levels.
 */
export function ladderAtRate(spaces: KnobSpaces, analysisFps: number): KnobSpaces {
  if (spaces.fps[0] === analysisFps) return spaces;
  const below = spaces.fps.filter((f) => f < analysisFps);
  return validateSpaces({ ...spaces, fps: [analysisFps, ...below] });
}

function count(value: number | undefined, fallback: number, what: string, min: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < min) throw new StreamOptionsError(`${what} must be an integer ≥ ${min}, got ${value}`);
  return v;
}

export class StreamOptionsError extends PermanentError {
  override name = 'StreamOptionsError';
}

/**
 * How many segments the ingest will cut from a source of `durationS` seconds (it keeps a
 * trailing partial one): an estimate from the probed duration, exact once the ingest has read
 * the source (StreamMeta.totalSegments). Undefined for a source without a duration (live).
 */
export function expectedSegments(durationS: number, segmentSeconds: number, analysisFps: number, maxSegments?: number): number | undefined {
  if (!Number.isFinite(durationS) || !(durationS > 0)) return undefined;
  const slots = Math.max(1, Math.round(segmentSeconds * analysisFps));
  const n = Math.max(1, Math.ceil(Math.round(durationS * analysisFps) / slots));
  return maxSegments === undefined ? n : Math.min(n, maxSegments);
}

/** Resolves a request against the defaults for a probed source and its model; pure. */
export function compileStream(req: StreamRequest, defaults: StreamDefaults, info: VideoInfo, model: ModelSpec, isLive: boolean): CompiledStream {
  const policySpec = req.policy ?? (req.fleet ? FLEET_DEFAULT_POLICY : defaults.policy);
  const policy = policyFromSpec(policySpec);
  const spaces = req.spaces ? validateSpaces(req.spaces) : ladderAtRate(defaults.spaces, defaults.analysisFps);
  const tooFast = spaces.fps.filter((f) => f > defaults.analysisFps);
  if (tooFast.length > 0) throw new KnobError(`knob space "fps": levels above the analysis rate (${defaults.analysisFps} fps) cannot be encoded, got ${tooFast.join(', ')}`);
  const auditEvery = count(req.auditEvery, defaults.auditEvery, 'audit every', 0);
  const probeEvery = count(req.probeEvery, defaults.probeEvery, 'probe every', 1);
  const maxSegments = req.maxSegments === undefined ? undefined : count(req.maxSegments, 0, 'max segments', 1);
  const origin = req.origin ?? req.source;
  const streamId = req.streamId !== undefined ? assertStreamId(req.streamId) : streamIdFor(origin);
  if (req.fleet) assertFleetName(req.fleet.name);
  // A fleet member starts where members start (its first prices come with its first result).
  const ctx = { spaces, sourceWidth: info.width, sourceHeight: info.height, ...(req.fleet ? { fleet: { budgetBw: false, budgetGpu: false, floorHonoured: true } } : {}) };
  const initial = policy.initial(ctx);
  const meta: StreamMeta = {
    streamId,
    // The stream's record is read by every role and reported: no credentials in it.
    source: redactUrls(origin),
    sourceWidth: info.width,
    sourceHeight: info.height,
    policy: policySpec,
    model: model.name,
    segmentSeconds: defaults.segmentSeconds,
    analysisFps: defaults.analysisFps,
    spaces,
    ...(req.fleet ? { fleet: req.fleet } : {}),
  };
  const expected = isLive ? undefined : expectedSegments(info.durationS, defaults.segmentSeconds, defaults.analysisFps, maxSegments);
  if (expected !== undefined) meta.expectedSegments = expected;
  return {
    meta,
    policy,
    initial,
    initialKnobs: encodedKnobs(initial.setting, info.width, info.height),
    plan: {
      streamId,
      source: req.source,
      sourceWidth: info.width,
      sourceHeight: info.height,
      spaces,
      segmentSeconds: defaults.segmentSeconds,
      analysisFps: defaults.analysisFps,
      lockstep: req.lockstep ?? !isLive,
      resultTimeoutMs: defaults.resultTimeoutMs,
      auditEvery,
      probeEvery: policy.needsGradients ? probeEvery : 0,
      probeKnobs: policy.probedKnobs,
      probeReference: policy.probesReference === true,
      analysisSize: analysisSize(model, info.width, info.height),
      maxSegments,
    },
  };
}
