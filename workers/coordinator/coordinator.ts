import { policyFromSpec } from '../../src/adapt/policies.js';
import { carriesRegion, type PolicyContext, type SegmentFeedback } from '../../src/adapt/policy.js';
import { encodedKnobs, knobsLabel, type EncodedKnobs } from '../../src/knobs/encode.js';
import { rowOf } from '../../src/records/segment-row.js';
import { PermanentError } from '../../src/errors.js';
import type { SegmentFailure } from '../../src/records/segment-failure.js';
import type { ResultJob } from '../../src/records/segment-result.js';
import type { StreamRegister } from '../../src/queue/stream-register.js';
import type { FleetRegister } from '../../src/queue/fleet-register.js';
import type { Log } from '../../src/log.js';
import { fleetStepInfo, memberObservation, type FleetStepInfo } from './fleet-step.js';

export type { FleetStepInfo } from './fleet-step.js';

/**
 * One consumed result: whether the policy stepped (not for a failed segment), the knobs the
 * stream has after it, the audit's F1 when the result carried one. For monitoring.
 */
export interface PolicyStep {
  streamId: string;
  seq: number;
  stepped: boolean;
  knobs: EncodedKnobs;
  auditF1: number | null;
  /** The stream's fleet after this result was counted (fleet members only). */
  fleet?: FleetStepInfo;
}

/** Compare-and-set retries before a commit gives up (each loss means another step went in). */
const MAX_COMMIT_ATTEMPTS = 20;

/** A result for a stream nobody registered (or whose state was removed). */
export class UnknownStreamError extends PermanentError {
  override name = 'UnknownStreamError';
}

/**
 * The coordinator's logic: record the segment's row, take one policy step per new result
 * (fenced on seq in Redis), publish the knobs when they change.
 */
export class Coordinator {
  private readonly logged = new Map<string, string>();

  constructor(
    private readonly streams: StreamRegister,
    private readonly log: Log = () => undefined,
    private readonly onStep: (step: PolicyStep) => void = () => undefined,
    /** Where fleets keep their prices; a fleet member's result without one is refused. */
    private readonly fleets?: FleetRegister,
  ) {}

  async handle(result: ResultJob): Promise<'stepped' | 'stale'> {
    const meta = await this.streams.meta(result.streamId);
    if (!meta) throw new UnknownStreamError(`result for unknown stream "${result.streamId}"`);
    await this.streams.recordRow(result.streamId, result.seq, rowOf(result));
    const policy = policyFromSpec(meta.policy);
    const ctx: PolicyContext = { spaces: meta.spaces, sourceWidth: meta.sourceWidth, sourceHeight: meta.sourceHeight, segmentSeconds: meta.segmentSeconds };
    const fleet = meta.fleet;
    if (fleet && !this.fleets) throw new Error(`stream "${result.streamId}" is in fleet "${fleet.name}" but this coordinator has no fleet register`);
    const member = { weight: fleet?.weight ?? 1, priority: fleet?.priority ?? 0 };
    const feedback: SegmentFeedback = {
      seq: result.seq,
      setting: { qp: result.knobs.qp, resolution: result.knobs.resolution, fps: result.knobs.fps, roi: result.knobs.roi },
      bytes: result.bytes,
      frames: result.frames,
      proxy: result.proxy,
      f1: result.f1,
      auditF1: result.auditF1 ?? null,
      auditBytes: result.auditBytes,
      gradients: result.gradients,
      error: result.error,
    };
    // Read, step, compare-and-set: another coordinator committing in between makes this one
    // read its state and step again, so no step is lost and none is taken twice.
    for (let attempt = 1; ; attempt++) {
      const { state, lastSeq } = await this.streams.policyState(result.streamId);
      const fresh = !result.error && result.seq > lastSeq;
      // A fleet member steps at the fleet's current prices (read with its own state).
      const stepCtx = fleet && fresh ? { ...ctx, fleet: await this.fleets!.view(fleet.name, member) } : ctx;
      // An older result is still sent to the commit, which counts it (nothing else changes).
      const decision = fresh ? policy.step(state, feedback, stepCtx) : undefined;
      const usesMask = decision !== undefined && carriesRegion(policy, decision.setting, ctx.spaces);
      const knobs = decision ? encodedKnobs(decision.setting, meta.sourceWidth, meta.sourceHeight, usesMask ? result.roiMask : undefined) : undefined;
      if (knobs && decision?.audit) knobs.audit = true;
      const outcome = await this.streams.commit(result.streamId, result.seq, decision ? decision.state : state, knobs, lastSeq);
      if (!outcome.consumed) {
        if (outcome.conflict && attempt < MAX_COMMIT_ATTEMPTS) continue;
        if (outcome.conflict) throw new Error(`stream "${result.streamId}": result ${result.seq} lost ${MAX_COMMIT_ATTEMPTS} compare-and-set races in a row`);
        // A coordinator that died between the stream's commit and the fleet's leaves the result
        // uncounted there: counting it now is safe (the fleet fences each member on seq).
        if (fleet) await this.fleets!.observe(fleet.name, memberObservation(meta, result, undefined));
        return this.stale(result.streamId, result.seq, lastSeq);
      }
      if (outcome.update && knobs) this.logUpdate(result.streamId, result.seq, knobs, outcome.update);
      // The stream's step is committed first, the fleet's count after: two slots on a cluster, so
      // two atomic steps; the fleet's is idempotent (fenced on the member's seq).
      const counted = fleet ? fleetStepInfo(await this.fleets!.observe(fleet.name, memberObservation(meta, result, decision))) : undefined;
      this.onStep({ streamId: result.streamId, seq: result.seq, stepped: decision !== undefined, knobs: knobs ?? result.knobs, auditF1: result.auditF1 ?? null, ...(counted ? { fleet: counted } : {}) });
      return 'stepped';
    }
  }

  /** An older or repeated result: its row is kept, the policy does not step; counted in Redis. */
  private stale(streamId: string, seq: number, lastSeq: number): 'stale' {
    this.log(`stream ${streamId}: result ${seq} arrived after ${lastSeq} was consumed; recorded, not stepped`, { stream: streamId, seq, level: 'warn' });
    return 'stale';
  }

  private logUpdate(streamId: string, seq: number, knobs: EncodedKnobs, update: { version: number; validFromSeq: number }): void {
    const k = knobsLabel(knobs);
    // A new region of interest alone is an update too; the log shows level changes only.
    const label = JSON.stringify(k);
    if (this.logged.get(streamId) === label) return;
    this.logged.set(streamId, label);
    this.log(`stream ${streamId}: knobs v${update.version} qp=${k.qp} ${k.resolution} ${k.fps}fps roi+${k.roi} from segment ${update.validFromSeq}`, { stream: streamId, seq });
  }

  /**
   * A segment that will never have a result (its job failed for good): record an error row with
   * the knobs the stream had and consume the seq without a policy step, so the stream goes on.
   */
  async handleFailure(failure: SegmentFailure): Promise<'recorded' | 'stale'> {
    const meta = await this.streams.meta(failure.streamId);
    if (!meta) throw new UnknownStreamError(`failure for unknown stream "${failure.streamId}"`);
    const knobs = await this.streams.knobsFor(failure.streamId, failure.seq);
    this.log(`stream ${failure.streamId}: segment ${failure.seq} failed: ${failure.error}`, { stream: failure.streamId, seq: failure.seq, level: 'warn' });
    await this.streams.recordRow(failure.streamId, failure.seq, {
      seq: failure.seq,
      knobs: knobsLabel(knobs.knobs),
      knobVersion: knobs.version,
      bytes: 0,
      frames: 0,
      slots: Math.max(1, Math.round(meta.segmentSeconds * meta.analysisFps)),
      detections: 0,
      proxy: 0,
      f1: null,
      refBytes: null,
      decodeMs: 0,
      inferMs: 0,
      gradMs: 0,
      encodeMs: 0,
      probeMs: 0,
      error: failure.error,
    });
    for (let attempt = 1; attempt <= MAX_COMMIT_ATTEMPTS; attempt++) {
      const { state, lastSeq } = await this.streams.policyState(failure.streamId);
      const outcome = await this.streams.commit(failure.streamId, failure.seq, state, undefined, lastSeq);
      if (outcome.consumed) {
        this.onStep({ streamId: failure.streamId, seq: failure.seq, stepped: false, knobs: knobs.knobs, auditF1: null });
        return 'recorded';
      }
      if (!outcome.conflict) return 'stale';
    }
    throw new Error(`stream "${failure.streamId}": failure ${failure.seq} lost ${MAX_COMMIT_ATTEMPTS} compare-and-set races in a row`);
  }
}
