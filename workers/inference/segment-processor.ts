import { segmentF1 } from '../../src/accuracy/f1.js';
import type { InferencePort } from '../../src/inference/pool.js';
import { DecodeBatcher } from '../../src/media/decode-batcher.js';
import type { MediaPort, RawFrame } from '../../src/media/types.js';
import { knobTerms, type KnobTerms } from '../../src/adapt/accgrad.js';
import { validateProbe, type Probe } from '../../src/adapt/probe.js';
import { GRAD_NAME, MASK_NAME, PROXY_NAME, saliencyFromGradient } from '../../src/autodiff/index.js';
import { proxyValue } from '../../src/models/proxy.js';
import type { Detection, FitSize, ModelSpec } from '../../src/models/types.js';
import type { ResultJob, SegmentJob } from '../../src/queue/schemas.js';
import { resultsKey } from '../../src/storage/keys.js';
import type { ObjectStore } from '../../src/storage/types.js';

/** Input that no retry can fix (corrupt or missing segment): the job fails with this reason. */
export class BadSegmentError extends Error {
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
  ms: number;
  proxy: number;
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
      throw new BadSegmentError(`${key}: ${err instanceof Error ? err.message : String(err)}`);
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
   * DNNGrad on the sampled frame (the segment's last): one fused forward+backward of the
   * proxy over its detections of interest → saliency per source macroblock → with the
   * ingest's probe, each knob's AccGrad terms.
   */
  async sampleGradient(frame: RawFrame, detections: Detection[], fit: FitSize, probe: Probe): Promise<GradientSample> {
    const { model, inference, gradientKey, classes } = this.deps;
    const ofInterest = detections.filter((d) => classes.has(d.cls));
    const cells = Math.ceil(probe.width / 16) * Math.ceil(probe.height / 16);
    if (!gradientKey || ofInterest.length === 0) {
      // Nothing to protect: zero saliency, so every knob's accuracy term is zero.
      return { terms: knobTerms(probe, new Float32Array(cells)), ms: 0, proxy: 0 };
    }
    const mask = new Float32Array(model.scoreMapSize);
    for (const d of ofInterest) mask[d.index] = 1;
    const dims = [1, 3, model.inputHeight, model.inputWidth];
    const r = await inference.run(
      gradientKey,
      { [model.inputName]: { data: model.toTensor(frame, fit), dims }, [MASK_NAME]: { data: mask, dims: model.scoreMapDims } },
      [GRAD_NAME, PROXY_NAME],
    );
    const s = saliencyFromGradient(r.outputs[GRAD_NAME].data, dims, probe.width, probe.height, fit.transform);
    for (let i = 0; i < s.data.length; i++) s.data[i] *= model.pixelScale;
    return { terms: knobTerms(probe, s.data), ms: r.ms, proxy: r.outputs[PROXY_NAME].data[0] };
  }

  async process(job: SegmentJob): Promise<ResultJob> {
    const { model, classes, store } = this.deps;
    const fit = model.fitSize(job.sourceWidth, job.sourceHeight);
    const t0 = performance.now();
    const frames = await this.decode(job.segmentKey, fit, job.frames);
    const decodeMs = performance.now() - t0;
    const main = await this.inferFrames(frames, fit, job.sourceWidth, job.sourceHeight);

    let f1: number | null = null;
    if (job.auditKey) {
      const refFrames = await this.decode(job.auditKey, fit, job.slots);
      const ref = await this.inferFrames(refFrames, fit, job.sourceWidth, job.sourceHeight);
      f1 = segmentF1(main.detections, ref.detections, classes);
    }

    let gradient: GradientSample | undefined;
    if (job.probeKey) {
      const raw = await store.getIfExists(job.probeKey);
      if (raw === undefined) throw new BadSegmentError(`probe object missing: ${job.probeKey}`);
      const probe = validateProbe(JSON.parse(raw.toString()) as Probe);
      const last = frames.length - 1;
      gradient = await this.sampleGradient(frames[last], main.detections[last], fit, probe);
    }

    const key = resultsKey(job.streamId, job.seq);
    const lines = main.detections.map((ds, frame) =>
      JSON.stringify({ frame, detections: ds.map((d) => ({ cls: d.cls, label: model.classNames[d.cls], score: +d.score.toFixed(4), box: d.box.map((v) => +v.toFixed(1)) })) }),
    );
    await store.put(key, lines.join('\n') + '\n', 'application/x-ndjson');

    const proxy = main.detections.reduce((s, ds) => s + proxyValue(ds, classes), 0) / Math.max(1, frames.length);
    return {
      streamId: job.streamId,
      seq: job.seq,
      knobs: job.knobs,
      knobVersion: job.knobVersion,
      bytes: job.bytes,
      frames: frames.length,
      slots: job.slots,
      detections: main.detections.reduce((s, ds) => s + ds.filter((d) => classes.has(d.cls)).length, 0),
      proxy,
      decodeMs,
      inferMs: main.inferMs,
      gradMs: gradient?.ms ?? 0,
      encodeMs: job.encodeMs,
      probeMs: job.probeMs,
      f1,
      gradients: gradient?.terms,
      resultKey: key,
    };
  }
}
