// `oneadapt model check` and bench/vjp.ts: a model's VJP and fused VJP on onnxruntime, the
// fused gradient checked against finite differences of the model itself on a real frame.
// The numeric check is src/autodiff/gradient-check.ts; this file supplies the model (catalog),
// the frame (media port) and the sessions (session factory).
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type * as ort from 'onnxruntime-node';
import { buildFusedModel, MASK_NAME } from '../../src/autodiff/fused.js';
import { type CheckResult, gradientCheck, medianMs, type Tensor32 } from '../../src/autodiff/gradient-check.js';
import { type ScoreMapName, scoreMaps } from '../../src/autodiff/objective.js';
import { decodeModel } from '../../src/autodiff/onnx-io.js';
import { buildVjpModel, GRAD_NAME, SEED_NAME } from '../../src/autodiff/vjp.js';
import { type Config, loadConfig } from '../../src/config/config.js';
import { createFfmpegMedia } from '../../src/media/ffmpeg.js';
import type { MediaPort } from '../../src/media/types.js';
import { resolveCheckModel } from '../../src/models/catalog.js';
import type { CheckModelSpec } from '../../src/models/check-model.js';
import { readModelInput } from './frame.js';
import { type CheckSessionSettings, DEFAULT_CHECK_SESSIONS, openSession, runSession } from './session.js';

/** The settings the check reads: where models and ffmpeg are, and how sessions run. */
export type ModelCheckConfig = Pick<Config, 'modelsDir' | 'ffmpegPath' | 'ffprobePath' | 'executionProviders' | 'intraOpThreads'>;

/** The configured execution providers; 2 intra-op threads unless ONEADAPT_INTRA_OP_THREADS says otherwise. */
export function checkSessionSettings(config: ModelCheckConfig): CheckSessionSettings {
  return { providers: config.executionProviders, intraOpThreads: config.intraOpThreads ?? DEFAULT_CHECK_SESSIONS.intraOpThreads };
}

/** The media port on the configured ffmpeg/ffprobe binaries. */
export function checkMedia(config: ModelCheckConfig): MediaPort {
  return createFfmpegMedia({ ffmpegPath: config.ffmpegPath, ffprobePath: config.ffprobePath });
}

/**
 * The model to check: a catalog name (or `ppocr-det`), a family-prefixed path, or a bare .onnx
 * path, whose family `scoreMap` gives when its file name is not a catalog model's.
 * `inputShape` [1,3,H,W] resizes a dynamic-input model.
 */
export function resolveCheckTarget(model: string, o: { scoreMap?: ScoreMapName; inputShape?: number[]; modelsDir?: string } = {}): CheckModelSpec {
  const bare = model.endsWith('.onnx') && !/^[a-z]+:/.test(model);
  const spec = resolveCheckModel(o.scoreMap && bare ? `${o.scoreMap}:${model}` : model, o.modelsDir);
  if (o.scoreMap && spec.scoreMap !== o.scoreMap) throw new Error(`${model} is read with the ${spec.scoreMap} score map, not ${o.scoreMap}`);
  if (!o.inputShape) return spec;
  const [n, c, h, w] = o.inputShape;
  if (o.inputShape.length !== 4 || n !== 1 || c !== 3) throw new Error(`input shape must be 1,3,H,W; got ${o.inputShape.join(',')}`);
  if (h === spec.inputHeight && w === spec.inputWidth) return spec;
  if (!spec.withInputSize) throw new Error(`${spec.name} has a fixed ${spec.inputWidth}×${spec.inputHeight} input; an input shape is only for dynamic-input models`);
  return spec.withInputSize(w, h);
}

export interface CheckModels {
  original: Uint8Array;
  /** (X, dY) → (dX, Y). */
  vjp: Uint8Array;
  /** (X, mask) → (dX, Y, A). */
  fused: Uint8Array;
  inputShape: number[];
  /** The output the score map reads (Y). */
  yName: string;
  /** ms to build the VJP and fused models. */
  buildMs: number;
}

/** Reads the model and builds its VJP and fused VJP at the spec's input size. */
export async function buildCheckModels(spec: CheckModelSpec): Promise<CheckModels> {
  const original = new Uint8Array(await readFile(spec.path));
  const outputs = (decodeModel(original).graph?.output ?? []).map((o) => o.name ?? '');
  const yName = scoreMaps[spec.scoreMap].pickOutput(outputs);
  const inputShape = [1, 3, spec.inputHeight, spec.inputWidth];
  const t0 = performance.now();
  const vjp = buildVjpModel(original, { inputShape, output: yName });
  const fused = buildFusedModel(original, spec.scoreMap, { inputShape });
  return { original, vjp, fused, inputShape, yName, buildMs: performance.now() - t0 };
}

/** The three sessions of a check, as functions of the input X (shaped like `inputShape`). */
export interface CheckSessions {
  original: ort.InferenceSession;
  vjp: ort.InferenceSession;
  fused: ort.InferenceSession;
  inputShape: number[];
  yName: string;
  buildMs: number;
  providers: string[];
  warnings: string[];
  /** Y of the original model. */
  forward(x: Float32Array): Promise<Tensor32>;
  /** dX of the VJP model for the seed dY. */
  vjpGradient(x: Float32Array, dY: Tensor32): Promise<Float32Array>;
  /** dX of the fused model for the mask. */
  gradient(x: Float32Array, mask: Tensor32): Promise<Float32Array>;
  release(): Promise<void>;
}

export async function openCheckSessions(spec: CheckModelSpec, settings: CheckSessionSettings = DEFAULT_CHECK_SESSIONS): Promise<CheckSessions> {
  const m = await buildCheckModels(spec);
  const opened = [await openSession(m.original, settings), await openSession(m.vjp, settings), await openSession(m.fused, settings)];
  const [original, vjp, fused] = opened.map((o) => o.session);
  const inName = original.inputNames[0];
  const vjpIn = vjp.inputNames.find((n) => n !== SEED_NAME) as string;
  const fusedIn = fused.inputNames.find((n) => n !== MASK_NAME) as string;
  const dims = m.inputShape;
  return {
    original, vjp, fused, inputShape: dims, yName: m.yName, buildMs: m.buildMs,
    providers: opened[0].providers,
    warnings: [...new Set(opened.flatMap((o) => o.warnings))],
    forward: async (x) => (await runSession(original, { [inName]: { data: x, dims } }))[m.yName],
    vjpGradient: async (x, dY) => (await runSession(vjp, { [vjpIn]: { data: x, dims }, [SEED_NAME]: dY }))[GRAD_NAME].data,
    gradient: async (x, mask) => (await runSession(fused, { [fusedIn]: { data: x, dims }, [MASK_NAME]: mask }))[GRAD_NAME].data,
    release: async () => { await Promise.all([original.release(), vjp.release(), fused.release()]); },
  };
}

/** A mask of ones, shaped like the score map of `y`: the fused model's cost at full load. */
export function fullMask(spec: CheckModelSpec, y: Tensor32): Tensor32 {
  const dims = scoreMaps[spec.scoreMap].shape(y.dims);
  return { data: new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(1), dims };
}

export interface ModelCheckOptions {
  /** Image (PNG/JPEG) or video holding the frame; the caller chooses (the CLI states its default). */
  image: string;
  /** Seconds into a video; 0 (the first frame) unless given. */
  seekS?: number;
  /** Family of a bare .onnx path whose file name is not a catalog model's. */
  scoreMap?: ScoreMapName;
  /** [1,3,H,W] for dynamic-input models. */
  inputShape?: number[];
  /** Random ±1 directions (default 4). */
  directions?: number;
  /** Single-pixel directions (default 3). */
  pixels?: number;
  /** Half step on the 0..255 pixel scale (default 0.5). */
  eps?: number;
  /** Default: loadConfig(). */
  config?: ModelCheckConfig;
  /** Default: ffmpeg at the configured paths. */
  media?: MediaPort;
}

export interface CheckReport {
  model: string;
  maxRelError: number;
  directions: number;
  forwardMs: number;
  vjpMs: number;
  fusedMs: number;
  /** Execution providers the sessions run on. */
  providers: string[];
  /** Providers that were asked for and fell back to cpu. */
  warnings: string[];
}

/** Gradient check of one model on one frame, then median forward / VJP / fused ms. */
export async function runModelCheck(model: string, o: ModelCheckOptions): Promise<CheckReport & { details: CheckResult }> {
  const config = o.config ?? loadConfig();
  const spec = resolveCheckTarget(model, { scoreMap: o.scoreMap, inputShape: o.inputShape, modelsDir: config.modelsDir });
  const media = o.media ?? checkMedia(config);
  const { x } = await readModelInput(media, spec, o.image, o.seekS ?? 0);
  const s = await openCheckSessions(spec, checkSessionSettings(config));
  try {
    const directions = o.directions ?? 4, pixels = o.pixels ?? 3;
    // A step on the 0..255 pixel scale, in model units.
    const eps = ((o.eps ?? 0.5) * spec.pixelScale) / 255;
    const details = await gradientCheck(s, { scoreMap: spec.scoreMap, x, threshold: spec.scoreThreshold, eps, directions, pixels, segments: 16 });
    const y = await s.forward(x.data);
    const mask = fullMask(spec, y);
    const forwardMs = await medianMs(() => s.forward(x.data));
    const vjpMs = await medianMs(() => s.vjpGradient(x.data, y));
    const fusedMs = await medianMs(() => s.gradient(x.data, mask));
    return {
      model: spec.name, maxRelError: details.maxRelError, directions: directions + pixels, forwardMs, vjpMs, fusedMs,
      providers: s.providers, warnings: s.warnings, details,
    };
  } finally {
    await s.release();
  }
}
