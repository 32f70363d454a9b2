import { segmentF1 } from '../../src/accuracy/f1.js';
import type { InferencePort } from '../../src/onnx/pool.js';
import { DecodeBatcher } from '../../src/media/decode-batcher.js';
import { FfmpegError, UndecodableSegmentError } from '../../src/media/ffmpeg-run.js';
import type { MediaPort, RawFrame } from '../../src/media/types.js';
import { knobTerms, type KnobTerms } from '../../src/adapt/accgrad.js';
import { validateProbe, type Probe } from '../../src/adapt/inputgrad-probe.js';
import { GRAD_NAME, MASK_NAME, PROXY_NAME, saliencyFromGradient } from '../../src/autodiff/index.js';
import { encodeRoiMask, regionOfInterest } from '../../src/knobs/roi.js';
import { proxyValue } from '../../src/models/proxy.js';
import type { Detection, FitSize, ModelSpec } from '../../src/models/types.js';
import { parseJsonRecord } from '../../src/records/parse.js';
import { probeSchema } from '../../src/records/probe.js';
import { fromSegmentJob, type ResultJob } from '../../src/records/segment-result.js';
import type { SegmentJob } from '../../src/records/segment-job.js';
import { resultsKey } from '../../src/storage/keys.js';
import type { ObjectStore } from '../../src/storage/types.js';
import { PermanentError } from '../../src/errors.js';
import { keptSlot } from '../../src/knobs/kept-frames.js';

/** Input that no retry can fix (corrupt or missing segment): the job fails with this reason. */
export class BadSegmentError extends PermanentError {
  override name = 'BadSegmentError';
}

export interface SegmentProcessorDeps {
  store: ObjectStore;
  media: MediaPort;
  inference: InferencePort;
  model: ModelSpec;
  /** Key the model was loaded under in the inference pool. */
  modelKey: string;
  classes: ReadonlySet<number>;
  /** Key of the fused VJP model (inputs X and mask; outputs dX, Y, A) in the pool, if loaded. */
  gradientKey?: string;
}

export interface GradientSample {
  terms: KnobTerms[];
  /** Milliseconds of the fused run. */
  ms: number;
  proxy: number;
  /** The sampled frame's detections, from the same run. */
  detections: Detection[];
  /** S per macroblock of the source (the probe's grid). */
  saliency: Float32Array;
}

interface FramesResult {
  detections: Detection[][];
  inferMs: number;
}

/** The inference worker's logic for one segment: download, decode, infer every frame, report. */
export class SegmentProcessor {
  private readonly decoder: DecodeBatcher;

  constructor(private readonly deps: SegmentProcessorDeps) {
    this.decoder = new DecodeBatcher(deps.media);
  }

  private async fetch(key: string): Promise<Buffer> {
    const data = await this.deps.store.getIfExists(key);
    if (data === undefined) throw new BadSegmentError(`segment object missing: ${key}`);
    if (data.length === 0) throw new BadSegmentError(`segment is empty (0 bytes): ${key}`);
    return data;
  }

  private async decode(key: string, fit: FitSize, expectedFrames?: number): Promise<RawFrame[]> {
    const data = await this.fetch(key);
    let frames: RawFrame[];
    try {
      frames = await this.decoder.decode(data, { width: fit.width, height: fit.height });
    } catch (err) {
      // What ffmpeg says about the bytes is final; a missing or killed ffmpeg is retried.
      if (err instanceof FfmpegError || err instanceof UndecodableSegmentError) throw new BadSegmentError(`${key}: ${err.message}`);
      throw err;
    }
    if (expectedFrames !== undefined && frames.length !== expectedFrames) {
      throw new BadSegmentError(`${key}: segment is not decodable: decoded ${frames.length} of ${expectedFrames} frames`);
    }
    return frames;
  }

  /** Infers frames one after another, preparing the next tensor while the current one runs. */
  async inferFrames(frames: RawFrame[], fit: FitSize, sourceWidth: number, sourceHeight: number): Promise<FramesResult> {
    const { model, inference, modelKey } = this.deps;
    const dims = [1, 3, model.inputHeight, model.inputWidth];
    const out: Detection[][] = [];
    let inferMs = 0;
    let next = frames.length > 0 ? model.toTensor(frames[0], fit) : undefined;
    for (let i = 0; i < frames.length; i++) {
      const running = inference.run(modelKey, { [model.inputName]: { data: next!, dims } }, model.outputNames);
      next = i + 1 < frames.length ? model.toTensor(frames[i + 1], fit) : undefined;
      const r = await running;
      inferMs += r.ms;
      const outputs = Object.fromEntries(Object.entries(r.outputs).map(([k, v]) => [k, v.data]));
      out.push(model.decode(outputs, fit, sourceWidth, sourceHeight));
    }
    return { detections: out, inferMs };
  }

  /**
   * DNNGrad on the sampled frame (the segment's last), in ONE fused forward+backward that also
   * yields its detections: the proxy's mask comes from the previous frame's detections of
   * interest (0.1 s earlier), so the gradient costs the fused run minus the forward it replaces.
   */
  async sampleGradient(frame: RawFrame, maskFrom: Detection[], fit: FitSize, probe: Probe): Promise<GradientSample> {
    const { model, inference, gradientKey, classes } = this.deps;
    const ofInterest = maskFrom.filter((d) => classes.has(d.cls));
    const mask = new Float32Array(model.scoreMapSize);
    for (const d of ofInterest) mask[d.index] = 1;
    const dims = [1, 3, model.inputHeight, model.inputWidth];
    const r = await inference.run(
      gradientKey!,
      { [model.inputName]: { data: model.toTensor(frame, fit), dims }, [MASK_NAME]: { data: mask, dims: model.scoreMapDims } },
      [GRAD_NAME, model.scoreOutput, PROXY_NAME],
    );
    // The probe is on the source's grid: its size is the source size.
    const detections = model.decode({ [model.scoreOutput]: r.outputs[model.scoreOutput].data }, fit, probe.width, probe.height);
    // Nothing of interest in view: zero saliency, so every accuracy term is zero.
    const s = saliencyFromGradient(r.outputs[GRAD_NAME].data, dims, probe.width, probe.height, fit.transform);
    for (let i = 0; i < s.data.length; i++) s.data[i] *= model.pixelScale;
    return { terms: knobTerms(probe, s.data), ms: r.ms, proxy: r.outputs[PROXY_NAME].data[0], detections, saliency: s.data };
  }

  /**
   * The policy's audit: the sampled frame at reference quality against the segment's own
   * detections on it. A frame that is not the one the segment kept there (another frame-rate
   * rule) measures nothing: null, and the policy learns nothing from it.
   */
  private async frameAudit(job: SegmentJob, fit: FitSize, detections: Detection[][]): Promise<number | null> {
    const { model, classes } = this.deps;
    const last = detections.length - 1;
    if (last < 0 || job.frameAuditSlot !== keptSlot(last, detections.length, job.slots)) return null;
    const [frame] = await this.decode(job.frameAuditKey!, fit, 1);
    const ref = await this.inferFrames([frame], fit, job.sourceWidth, job.sourceHeight);
    return segmentF1([detections[last]], ref.detections, classes, model.decisionThreshold);
  }

  private async probe(key: string): Promise<Probe> {
    const raw = await this.deps.store.getIfExists(key);
    if (raw === undefined) throw new BadSegmentError(`probe object missing: ${key}`);
    try {
      return validateProbe(parseJsonRecord(probeSchema, raw.toString(), 'probe'));
    } catch (err) {
      throw new BadSegmentError(`probe ${key} is unusable: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  async process(job: SegmentJob): Promise<ResultJob> {
    const { model, classes, store } = this.deps;
    const fit = model.fitSize(job.sourceWidth, job.sourceHeight);
    const t0 = performance.now();
    const frames = await this.decode(job.segmentKey, fit, job.frames);
    const decodeMs = performance.now() - t0;
    const probe = job.probeKey ? await this.probe(job.probeKey) : undefined;
    // The fused model returns the score output only: families that decode more than one
    // output (UltraFace's boxes) keep a plain forward for the sampled frame.
    const fused = probe !== undefined && this.deps.gradientKey !== undefined && frames.length >= 2 && model.outputNames.length === 1;
    const main = await this.inferFrames(fused ? frames.slice(0, -1) : frames, fit, job.sourceWidth, job.sourceHeight);
    let gradient: GradientSample | undefined;
    let gradMs = 0;
    if (probe && fused) {
      gradient = await this.sampleGradient(frames[frames.length - 1], main.detections[main.detections.length - 1], fit, probe);
      main.detections.push(gradient.detections);
      // Charge the fused run's forward share to inference, the rest to the gradient.
      const forwardMs = main.inferMs / (frames.length - 1);
      main.inferMs += forwardMs;
      gradMs = Math.max(0, gradient.ms - forwardMs);
    } else if (probe && this.deps.gradientKey) {
      const last = frames.length - 1;
      gradient = await this.sampleGradient(frames[last], main.detections[last], fit, probe);
      gradMs = gradient.ms;
    } else if (probe) {
      // No gradient model loaded: the probe cannot be used; zero saliency would mislead.
      throw new Error('segment has a probe but this worker has no gradient model loaded');
    }

    let f1: number | null = null;
    if (job.auditKey) {
      const refFrames = await this.decode(job.auditKey, fit, job.slots);
      const ref = await this.inferFrames(refFrames, fit, job.sourceWidth, job.sourceHeight);
      f1 = segmentF1(main.detections, ref.detections, classes, model.decisionThreshold);
    }

    const audit = job.frameAuditKey ? await this.frameAudit(job, fit, main.detections) : undefined;

    const key = resultsKey(job.streamId, job.seq);
    const lines = main.detections.map((ds, frame) =>
      JSON.stringify({ frame, detections: ds.map((d) => ({ cls: d.cls, label: model.classNames[d.cls], score: +d.score.toFixed(4), box: d.box.map((v) => +v.toFixed(1)) })) }),
    );
    await store.put(key, lines.join('\n') + '\n', 'application/x-ndjson');

    const proxy = main.detections.reduce((s, ds) => s + proxyValue(ds, classes), 0) / Math.max(1, frames.length);
    const roiMask = encodeRoiMask(regionOfInterest(main.detections, classes, job.sourceWidth, job.sourceHeight, gradient?.saliency));
    return {
      ...fromSegmentJob(job),
      frames: frames.length,
      detections: main.detections.reduce((s, ds) => s + ds.filter((d) => classes.has(d.cls)).length, 0),
      proxy,
      decodeMs,
      inferMs: main.inferMs,
      gradMs,
      f1,
      refBytes: job.auditKey ? (job.auditBytes ?? null) : null,
      ...(audit !== undefined ? { auditF1: audit } : {}),
      gradients: gradient?.terms,
      roiMask,
      resultKey: key,
    };
  }
}
