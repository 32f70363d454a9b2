import { performance } from 'node:perf_hooks';
import { segmentF1 } from '../../src/accuracy/f1.js';
import type { ProfileRequest } from '../../src/adapt/policy.js';
import { encodeSettings, encodedKnobs, frameAuditSettings } from '../../src/knobs/encode.js';
import { encodeRoiMask, regionOfInterest } from '../../src/knobs/roi.js';
import { referenceSetting, type KnobSetting, type KnobSpaces } from '../../src/knobs/space.js';
import type { MediaPort, RawFrame } from '../../src/media/types.js';
import { proxyValue } from '../../src/models/proxy.js';
import type { Detection, FitSize, ModelSpec } from '../../src/models/types.js';
import type { SegmentProcessor } from '../../workers/inference/segment-processor.js';
import { analysisSize } from '../../src/models/analysis-size.js';
import { computeProbe } from '../../workers/ingest/compute-probe.js';
import type { SegmentOutcome, StreamPort } from './drive.js';
import type { Footage } from './footage.js';
import { settingKey } from './grid.js';
import { keptSlot } from '../../src/knobs/kept-frames.js';
import { base64ToFloat32, float32ToBase64, type LabCache } from './lab-cache.js';

type StoredOutcome = Omit<LabOutcome, 'data'>;
interface StoredGradients {
  terms: import('../../src/adapt/accgrad.js').KnobTerms[];
  probeMs: number;
  gradMs: number;
  proxy: number;
  saliency: string;
  refBytes: number;
}

/** An outcome with what later steps need: the encoded segment and its detections per frame. */
export interface LabOutcome extends SegmentOutcome {
  /** Absent when the outcome came from the disk cache: re-encoded on demand. */
  data?: Buffer;
  detections: Detection[][];
  decodeMs: number;
}

export interface LabDeps {
  media: MediaPort;
  /** The inference worker's own logic: inferFrames and sampleGradient. */
  processor: SegmentProcessor;
  model: ModelSpec;
  classes: ReadonlySet<number>;
  spaces: KnobSpaces;
  analysisFps: number;
  segmentSeconds: number;
}

/**
 * One video's segments measured at any configuration through the production path: encode the
 * raw frames (x264, as the ingest), decode to the model's input size (as the worker), infer
 * every frame, F1 against the reference encode's detections. Results are cached per (segment,
 * configuration), so a configuration measured once — by the grid, a profile or a policy —
 * is never encoded or inferred again. Each batch uses one ffmpeg process to encode and one to decode.
 */
export class SegmentLab {
  private readonly cache = new Map<string, Promise<LabOutcome>>();
  readonly fit: FitSize;

  constructor(
    private readonly deps: LabDeps,
    readonly footage: Footage,
    private readonly disk?: LabCache,
  ) {
    this.fit = deps.model.fitSize(footage.width, footage.height);
  }

  /** Detections of the classes of interest over a segment's frames (the worker counts the same). */
  detectionsOfInterest(outcome: LabOutcome): number {
    return outcome.detections.reduce((s, ds) => s + ds.filter((d) => this.deps.classes.has(d.cls)).length, 0);
  }

  /** Waits until every measurement reached the disk cache. */
  flush(): Promise<void> {
    return this.disk?.flush() ?? Promise.resolve();
  }

  /** How many of these configurations of a segment would still have to be measured. */
  missing(seq: number, settings: readonly KnobSetting[]): number {
    return settings.filter((s) => !this.cache.has(this.key(seq, s)) && this.disk?.get(`o|${this.key(seq, s)}`) === undefined).length;
  }

  get segments(): number {
    return this.footage.segments.length;
  }

  /** A region-of-interest encode also depends on its region; one at roi 0 does not. */
  private key(seq: number, s: KnobSetting, roiMask?: string): string {
    return `${seq}|${settingKey(s)}${s.roi > 0 && roiMask !== undefined ? `|${roiMask}` : ''}`;
  }

  /** Encodes and decodes the missing configurations of a segment (two ffmpeg processes). */
  private async transcode(seq: number, settings: KnobSetting[], roiMask?: string): Promise<{ data: Buffer; frames: RawFrame[]; encodeMs: number; decodeMs: number }[]> {
    const { media, analysisFps } = this.deps;
    const { width, height } = this.footage;
    const t0 = performance.now();
    const encoded = await media.encodeMany(
      this.footage.segments[seq],
      analysisFps,
      settings.map((s) => encodeSettings(encodedKnobs(s, width, height, roiMask), width, height)),
    );
    const t1 = performance.now();
    const decoded = await media.decodeMany(encoded, { width: this.fit.width, height: this.fit.height });
    const t2 = performance.now();
    return encoded.map((data, i) => ({ data, frames: decoded[i], encodeMs: (t1 - t0) / settings.length, decodeMs: (t2 - t1) / settings.length }));
  }

  private async infer(seq: number, t: { data: Buffer; frames: RawFrame[]; encodeMs: number; decodeMs: number }, reference?: Detection[][]): Promise<LabOutcome> {
    const { processor, classes } = this.deps;
    const r = await processor.inferFrames(t.frames, this.fit, this.footage.width, this.footage.height);
    const slots = this.footage.segments[seq].length;
    const outcome: LabOutcome = {
      bytes: t.data.length,
      frames: t.frames.length,
      slots,
      f1: segmentF1(r.detections, reference ?? r.detections, classes, this.deps.model.decisionThreshold),
      proxy: r.detections.reduce((s, ds) => s + proxyValue(ds, classes), 0) / Math.max(1, t.frames.length),
      inferMs: r.inferMs,
      encodeMs: t.encodeMs,
      decodeMs: t.decodeMs,
      data: t.data,
      detections: r.detections,
    };
    return outcome;
  }

  /** A measurement the disk cache already holds, as a settled promise. */
  private fromDisk(key: string): Promise<LabOutcome> | undefined {
    const stored = this.disk?.get<StoredOutcome>(`o|${key}`);
    return stored ? Promise.resolve({ ...stored }) : undefined;
  }

  private remember(key: string, p: Promise<LabOutcome>): void {
    this.cache.set(key, p);
    if (!this.disk) return;
    p.then(({ data: _data, ...stored }) => this.disk!.set(`o|${key}`, stored)).catch(() => undefined);
  }

  /** The encoded bytes of an outcome, re-encoding the configuration when they came from disk. */
  private async dataOf(seq: number, setting: KnobSetting, outcome: LabOutcome, roiMask?: string): Promise<Buffer> {
    if (outcome.data) return outcome.data;
    const [t] = await this.transcode(seq, [setting], setting.roi > 0 ? roiMask : undefined);
    outcome.data = t.data;
    return t.data;
  }

  /** The reference configuration's outcome: its detections are the ground truth. */
  reference(seq: number): Promise<LabOutcome> {
    return this.evaluateMany(seq, [referenceSetting(this.deps.spaces)]).then((r) => r[0]);
  }

  /** Measures several configurations of one segment (with one region), batching whatever is not cached yet. */
  async evaluateMany(seq: number, settings: KnobSetting[], roiMask?: string): Promise<LabOutcome[]> {
    const ref = referenceSetting(this.deps.spaces);
    const refKey = this.key(seq, ref);
    for (const s of [ref, ...settings]) {
      const key = this.key(seq, s, s === ref ? undefined : roiMask);
      const stored = this.cache.has(key) ? undefined : this.fromDisk(key);
      if (stored) this.cache.set(key, stored);
    }
    const missing = settings.filter((s, i) => !this.cache.has(this.key(seq, s, roiMask)) && settings.findIndex((o) => settingKey(o) === settingKey(s)) === i);
    if (!this.cache.has(refKey) && !missing.some((s) => this.key(seq, s, roiMask) === refKey)) missing.unshift(ref);
    if (missing.length > 0) {
      const batch = this.transcode(seq, missing, roiMask);
      // Inference runs one configuration after another; the reference goes first (ground truth).
      const refPromise = this.cache.get(refKey) ?? batch.then((ts) => this.infer(seq, ts[missing.findIndex((s) => this.key(seq, s, roiMask) === refKey)]));
      if (!this.cache.has(refKey)) this.remember(refKey, refPromise);
      let chain: Promise<unknown> = refPromise;
      missing.forEach((s, i) => {
        const key = this.key(seq, s, roiMask);
        if (key === refKey) return;
        const p = chain.then(async () => this.infer(seq, (await batch)[i], (await refPromise).detections));
        chain = p;
        this.remember(key, p);
      });
      // A failure belongs to every configuration of the batch; keep it from going unobserved.
      chain.catch(() => undefined);
    }
    return Promise.all(settings.map((s) => this.cache.get(this.key(seq, s, roiMask))!));
  }

  evaluate(seq: number, setting: KnobSetting, roiMask?: string): Promise<LabOutcome> {
    return this.evaluateMany(seq, [setting], roiMask).then((r) => r[0]);
  }

  /**
   * The policy's audit, as the ingest and worker do it: the raw frame behind the segment's last
   * decoded frame, encoded alone at reference QP and the size the DNN sees (its bytes are the
   * audit's cost), decoded and inferred, against the segment's detections on that frame.
   */
  async audit(seq: number, outcome: LabOutcome): Promise<{ f1: number; bytes: number }> {
    const { media, analysisFps, spaces, classes, model, processor } = this.deps;
    const { width, height } = this.footage;
    const slots = this.footage.segments[seq].length;
    const last = Math.max(0, outcome.detections.length - 1);
    const slot = keptSlot(last, Math.max(1, outcome.detections.length), slots);
    const key = `audit|${seq}|${slot}`;
    let stored = this.disk?.get<{ bytes: number; detections: Detection[] }>(key);
    if (stored === undefined) {
      const settings = frameAuditSettings(spaces, analysisSize(model, width, height), analysisFps);
      const [data] = await media.encodeMany([this.footage.segments[seq][slot]], analysisFps, [settings]);
      const [frames] = await media.decodeMany([data], { width: this.fit.width, height: this.fit.height });
      const r = await processor.inferFrames(frames.slice(0, 1), this.fit, width, height);
      stored = { bytes: data.length, detections: r.detections[0] ?? [] };
      this.disk?.set(key, stored);
    }
    const f1 = segmentF1([outcome.detections[last] ?? []], [stored.detections], classes, model.decisionThreshold);
    return { f1, bytes: stored.bytes };
  }

  /** A policy's view of this video; `refEvery` re-measures the reference size as the ingest does. */
  port(segmentSeconds: number, refEvery = 10): StreamPort<LabOutcome> {
    const { media, processor, spaces, analysisFps } = this.deps;
    const { width, height } = this.footage;
    let probes = 0;
    let refBytes: number | undefined;
    return {
      segments: this.segments,
      ctx: { spaces, sourceWidth: width, sourceHeight: height, segmentSeconds },
      evaluate: (seq, setting, roiMask) => this.evaluate(seq, setting, roiMask),
      region: (outcome, saliency) => encodeRoiMask(regionOfInterest(outcome.detections, this.deps.classes, width, height, saliency)),
      gradients: async (seq, setting, outcome, opts = {}) => {
        if (probes++ % refEvery === 0) refBytes = undefined;
        const gKey = `g|${seq}|${settingKey(setting)}|${opts.roiMask ?? ''}|${(opts.knobs ?? []).join('+')}${opts.reference ? '|ref' : ''}`;
        const stored = this.disk?.get<StoredGradients>(gKey);
        if (stored) {
          refBytes = stored.refBytes;
          return { terms: stored.terms, probeMs: stored.probeMs, gradMs: stored.gradMs, proxy: stored.proxy, saliency: base64ToFloat32(stored.saliency) };
        }
        const data = await this.dataOf(seq, setting, outcome, opts.roiMask);
        const { probe, ms } = await computeProbe(media, {
          seq,
          frames: this.footage.segments[seq],
          inputFps: analysisFps,
          current: encodedKnobs(setting, width, height, opts.roiMask),
          currentData: data,
          spaces,
          sourceWidth: width,
          sourceHeight: height,
          refBytes,
          analysisSize: analysisSize(this.deps.model, width, height),
          knobs: opts.knobs,
          withReference: opts.reference,
        });
        refBytes = probe.refBytes;
        // The worker samples the segment's last frame as it decoded it.
        const [frames] = await media.decodeMany([data], { width: this.fit.width, height: this.fit.height });
        // As the worker: the mask comes from the frame before the sampled one, and the fused run
        // stands in for the sampled frame's forward, so only the excess counts as gradient time.
        const last = frames.length - 1;
        const g = await processor.sampleGradient(frames[last], outcome.detections[Math.max(0, last - 1)], this.fit, probe);
        const forwardMs = outcome.inferMs / Math.max(1, outcome.frames);
        const result = { terms: g.terms, probeMs: ms, gradMs: last > 0 ? Math.max(0, g.ms - forwardMs) : g.ms, proxy: g.proxy, saliency: g.saliency };
        this.disk?.set(gKey, { ...result, saliency: float32ToBase64(g.saliency), refBytes: probe.refBytes } satisfies StoredGradients);
        return result;
      },
      audit: (seq, outcome) => this.audit(seq, outcome),
      profile: async (request: ProfileRequest) => {
        const [ref, ...rs] = await this.evaluateMany(request.seq, [referenceSetting(spaces), ...request.settings]);
        const results = request.settings.map((setting, i) => ({ setting, bytes: rs[i].bytes, frames: rs[i].frames, f1: rs[i].f1 }));
        const ms = rs.reduce((s, r) => s + r.inferMs + r.encodeMs + r.decodeMs, 0);
        return { response: { seq: request.seq, refBytes: ref.bytes, refFrames: ref.frames, results }, ms };
      },
    };
  }
}
