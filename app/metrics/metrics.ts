import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { SegmentFailure } from '../../src/records/segment-failure.js';
import type { ResultJob } from '../../src/records/segment-result.js';
import type { SegmentJob } from '../../src/records/segment-job.js';
import type { PolicyStep } from '../../workers/coordinator/coordinator.js';

/** Who ran a segment's inference: the labels of the inference metrics. */
export interface InferenceLabels {
  model: string;
  provider: string;
}

// Per-segment seconds: a 1-s segment takes tens of ms on a GPU, seconds on a small CPU.
const SEGMENT_SECONDS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * The process's Prometheus metrics, named like Triton's (`*_inference_*`, model and execution
 * provider labels) and Frigate's (one `stream` label per camera). Each role fills its own:
 * ingest the segment counts, bytes and encode/probe times, the worker the inference ones, the
 * coordinator policy steps, knobs and audited F1; Prometheus sums them over the fleet.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly ingested = new Counter({ name: 'oneadapt_segments_ingested_total', help: 'Segments encoded, uploaded and queued by an ingest', labelNames: ['stream'], registers: [this.registry] });
  private readonly bytes = new Counter({ name: 'oneadapt_stream_bytes_total', help: 'Bytes sent for a stream: segments, and the policy\'s audit frames (kind="audit")', labelNames: ['stream', 'kind'], registers: [this.registry] });
  private readonly encodeSeconds = new Histogram({ name: 'oneadapt_encode_seconds', help: 'Encoding one segment with the stream\'s knobs', buckets: SEGMENT_SECONDS, registers: [this.registry] });
  private readonly probeSeconds = new Histogram({ name: 'oneadapt_probe_seconds', help: 'The InputGrad probe of one segment (its extra encodes)', buckets: SEGMENT_SECONDS, registers: [this.registry] });
  private readonly processed = new Counter({ name: 'oneadapt_segments_processed_total', help: 'Segments a worker analysed', labelNames: ['stream'], registers: [this.registry] });
  private readonly failed = new Counter({ name: 'oneadapt_segments_failed_total', help: 'Segments that failed for good (their stream goes on without them)', labelNames: ['stream'], registers: [this.registry] });
  private readonly inferences = new Counter({ name: 'oneadapt_inference_count', help: 'Frames inferred', labelNames: ['model', 'provider'], registers: [this.registry] });
  private readonly computeSeconds = new Histogram({ name: 'oneadapt_inference_compute_seconds', help: 'Inference over one segment\'s frames', labelNames: ['model', 'provider'], buckets: SEGMENT_SECONDS, registers: [this.registry] });
  private readonly gradientSeconds = new Histogram({ name: 'oneadapt_inference_gradient_seconds', help: 'The gradient pass (DNNGrad) over one probed segment', labelNames: ['model', 'provider'], buckets: SEGMENT_SECONDS, registers: [this.registry] });
  private readonly decodeSeconds = new Histogram({ name: 'oneadapt_inference_decode_seconds', help: 'Decoding one segment in the worker', labelNames: ['model', 'provider'], buckets: SEGMENT_SECONDS, registers: [this.registry] });
  private readonly steps = new Counter({ name: 'oneadapt_policy_steps_total', help: 'Results the coordinator consumed; outcome="stepped" moved the policy, "failed" closed a failed segment', labelNames: ['stream', 'outcome'], registers: [this.registry] });
  private readonly knob = new Gauge({ name: 'oneadapt_stream_knob', help: 'The stream\'s current knob values (qp, resolution scale, fps, roi offset)', labelNames: ['stream', 'knob'], registers: [this.registry] });
  private readonly auditF1 = new Gauge({ name: 'oneadapt_stream_audit_f1', help: 'F1 of the stream\'s last audit against its reference-quality copy', labelNames: ['stream'], registers: [this.registry] });
  private readonly fleetPrice = new Gauge({ name: 'oneadapt_fleet_price', help: 'The fleet\'s price of bandwidth, F1 per kbit/s', labelNames: ['fleet'], registers: [this.registry] });
  private readonly fleetGpuPrice = new Gauge({ name: 'oneadapt_fleet_gpu_price', help: 'The fleet\'s price of GPU, F1 per frame inferred per second', labelNames: ['fleet'], registers: [this.registry] });
  private readonly fleetBudget = new Gauge({ name: 'oneadapt_fleet_budget_kbps', help: 'The fleet\'s uplink budget, kbit/s', labelNames: ['fleet'], registers: [this.registry] });
  private readonly fleetSpend = new Gauge({ name: 'oneadapt_fleet_spend_kbps', help: 'What the fleet\'s live members are about to send, kbit/s', labelNames: ['fleet'], registers: [this.registry] });
  private readonly fleetGpuBudget = new Gauge({ name: 'oneadapt_fleet_budget_gpu_fps', help: 'The fleet\'s GPU budget, frames inferred per second', labelNames: ['fleet'], registers: [this.registry] });
  private readonly fleetGpuSpend = new Gauge({ name: 'oneadapt_fleet_spend_gpu_fps', help: 'Frames per second the fleet\'s live members are about to have inferred', labelNames: ['fleet'], registers: [this.registry] });
  private readonly fleetShare = new Gauge({ name: 'oneadapt_fleet_share', help: 'A member\'s share of its fleet\'s spend (0..1)', labelNames: ['fleet', 'stream'], registers: [this.registry] });
  /** Members each fleet's share gauge has a series for: a member that left loses its series. */
  private readonly fleetMembers = new Map<string, Set<string>>();

  constructor(opts: { defaults?: boolean } = {}) {
    // Process CPU, memory, event-loop lag and GC: what tells a stuck or leaking role.
    if (opts.defaults ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'oneadapt_' });
  }

  /** An ingest queued a segment. */
  segmentQueued(job: SegmentJob): void {
    this.ingested.inc({ stream: job.streamId });
    this.bytes.inc({ stream: job.streamId, kind: 'segment' }, job.bytes);
    if (job.frameAuditBytes) this.bytes.inc({ stream: job.streamId, kind: 'audit' }, job.frameAuditBytes);
    this.encodeSeconds.observe(job.encodeMs / 1000);
    if (job.probeKey) this.probeSeconds.observe(job.probeMs / 1000);
  }

  /** A worker reported a segment's result (or that it could not be analysed). */
  segmentResult(result: ResultJob, who: InferenceLabels): void {
    if (result.error) {
      this.failed.inc({ stream: result.streamId });
      return;
    }
    this.processed.inc({ stream: result.streamId });
    this.inferences.inc(who, result.frames);
    this.computeSeconds.observe(who, result.inferMs / 1000);
    this.decodeSeconds.observe(who, result.decodeMs / 1000);
    if (result.gradients !== undefined) this.gradientSeconds.observe(who, result.gradMs / 1000);
  }

  /** A worker reported a failure it could only attribute (no usable payload). */
  segmentFailure(failure: SegmentFailure): void {
    this.failed.inc({ stream: failure.streamId });
  }

  /** The coordinator consumed a result. */
  policyStep(step: PolicyStep): void {
    this.steps.inc({ stream: step.streamId, outcome: step.stepped ? 'stepped' : 'failed' });
    const k = step.knobs;
    for (const [name, value] of [['qp', k.qp], ['resolution', k.resolution], ['fps', k.fps], ['roi', k.roi]] as const) {
      this.knob.set({ stream: step.streamId, knob: name }, value);
    }
    if (step.auditF1 !== null) this.auditF1.set({ stream: step.streamId }, step.auditF1);
    if (step.fleet) this.fleetStep(step.fleet);
  }

  private fleetStep(f: NonNullable<PolicyStep['fleet']>): void {
    const fleet = f.name;
    if (f.priceBw !== undefined) this.fleetPrice.set({ fleet }, f.priceBw);
    if (f.priceGpu !== undefined) this.fleetGpuPrice.set({ fleet }, f.priceGpu);
    if (f.budgetKbps !== undefined) this.fleetBudget.set({ fleet }, f.budgetKbps);
    else this.fleetBudget.remove({ fleet });
    if (f.budgetGpuFps !== undefined) this.fleetGpuBudget.set({ fleet }, f.budgetGpuFps);
    else this.fleetGpuBudget.remove({ fleet });
    this.fleetSpend.set({ fleet }, f.spendKbps);
    this.fleetGpuSpend.set({ fleet }, f.spendGpuFps);
    const known = this.fleetMembers.get(fleet) ?? new Set<string>();
    for (const stream of known) if (!(stream in f.shares)) this.fleetShare.remove({ fleet, stream });
    for (const [stream, share] of Object.entries(f.shares)) this.fleetShare.set({ fleet, stream }, share);
    this.fleetMembers.set(fleet, new Set(Object.keys(f.shares)));
  }
}
