import { UnrecoverableError, Worker, type ConnectionOptions } from 'bullmq';
import { policyFromSpec } from '../../src/adapt/policies.js';
import { carriesRegion, type PolicyContext, type SegmentFeedback } from '../../src/adapt/policy.js';
import { encodedKnobs, knobsLabel, type KnobsLabel } from '../../src/knobs/encode.js';
import type { KnobSpaces } from '../../src/knobs/space.js';
import { RESULT_QUEUE } from '../../src/queue/names.js';
import { resultJobSchema, type ResultJob } from '../../src/queue/schemas.js';
import { jobPayload } from '../../src/queue/job-payload.js';
import type { StreamStore } from '../../src/queue/stream-register.js';

/** One row of the report, as the coordinator saw the segment. */
export interface SegmentRow {
  seq: number;
  knobs: KnobsLabel;
  knobVersion: number;
  bytes: number;
  frames: number;
  slots: number;
  detections: number;
  proxy: number;
  f1: number | null;
  /** Bytes of the reference encode of the same frames (audited segments). */
  refBytes: number | null;
  decodeMs: number;
  inferMs: number;
  gradMs: number;
  encodeMs: number;
  probeMs: number;
  /** The segment's AccGrad terms per knob, when it was probed. */
  gradients?: ResultJob['gradients'];
  error?: string;
}

export function rowOf(r: ResultJob): SegmentRow {
  return {
    seq: r.seq,
    knobs: knobsLabel(r.knobs),
    knobVersion: r.knobVersion,
    bytes: r.bytes,
    frames: r.frames,
    slots: r.slots,
    detections: r.detections,
    proxy: r.proxy,
    f1: r.f1,
    refBytes: r.refBytes ?? null,
    decodeMs: r.decodeMs,
    inferMs: r.inferMs,
    gradMs: r.gradMs,
    encodeMs: r.encodeMs,
    probeMs: r.probeMs,
    ...(r.gradients ? { gradients: r.gradients } : {}),
    ...(r.error ? { error: r.error } : {}),
  };
}

/**
 * The coordinator's logic: record the segment's row, take one policy step per new result
 * (fenced on seq in Redis), publish the knobs when they change.
 */
export class Coordinator {
  private readonly logged = new Map<string, string>();

  constructor(
    private readonly streams: StreamStore,
    private readonly spaces: KnobSpaces,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  async handle(result: ResultJob): Promise<'stepped' | 'stale'> {
    const meta = await this.streams.meta(result.streamId);
    if (!meta) throw new UnrecoverableError(`result for unknown stream "${result.streamId}"`);
    await this.streams.recordRow(result.streamId, result.seq, rowOf(result));

    const { state, lastSeq } = await this.streams.policyState(result.streamId);
    if (result.seq <= lastSeq) return 'stale';
    const policy = policyFromSpec(meta.policy);
    const ctx: PolicyContext = { spaces: meta.spaces ?? this.spaces, sourceWidth: meta.sourceWidth, sourceHeight: meta.sourceHeight };
    const feedback: SegmentFeedback = {
      seq: result.seq,
      setting: { qp: result.knobs.qp, resolution: result.knobs.resolution, fps: result.knobs.fps, roi: result.knobs.roi },
      bytes: result.bytes,
      frames: result.frames,
      proxy: result.proxy,
      f1: result.f1,
      gradients: result.gradients,
      error: result.error,
    };
    const decision = result.error ? undefined : policy.step(state, feedback, ctx);
    const usesMask = decision !== undefined && carriesRegion(policy, decision.setting, ctx.spaces);
    const knobs = decision ? encodedKnobs(decision.setting, meta.sourceWidth, meta.sourceHeight, usesMask ? result.roiMask : undefined) : undefined;
    const outcome = await this.streams.commit(result.streamId, result.seq, decision ? decision.state : state, knobs);
    if (!outcome.consumed) return 'stale';
    if (outcome.consumed && outcome.update && knobs) {
      const k = knobsLabel(knobs);
      // A new region of interest alone is an update too; the log shows level changes only.
      const label = JSON.stringify(k);
      if (this.logged.get(result.streamId) === label) return 'stepped';
      this.logged.set(result.streamId, label);
      this.log(`stream ${result.streamId}: knobs v${outcome.update.version} qp=${k.qp} ${k.resolution} ${k.fps}fps roi+${k.roi} from segment ${outcome.update.validFromSeq}`);
    }
    return 'stepped';
  }
}

export function startCoordinatorWorker(opts: { connection: ConnectionOptions; prefix: string; coordinator: Coordinator; log?: (line: string) => void }): Worker {
  // One result at a time per process; the Redis fence keeps several coordinators correct too.
  const worker = new Worker(
    RESULT_QUEUE,
    async (job) => {
      const result = jobPayload(resultJobSchema, job.data, 'result');
      return opts.coordinator.handle(result);
    },
    { connection: opts.connection, prefix: opts.prefix, concurrency: 1 },
  );
  worker.on('error', (err) => opts.log?.(`coordinator: ${err.message}`));
  return worker;
}
