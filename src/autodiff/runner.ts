// onnxruntime-node side of the autodiff module: sessions, frame loading, gradient checks.
// Kept apart from the transform, which stays free of onnxruntime.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as ort from 'onnxruntime-node';
import { type ScoreMapName, proxyValue } from './objective.js';
import { toPlanarTensor } from '../models/image.js';
import type { ModelPreset } from './presets.js';

const execFileP = promisify(execFile);

/** Two threads; no spinning, so alternating sessions on two cores do not starve each other. */
export const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: 2,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
  executionProviders: ['cpu'],
  logSeverityLevel: 3,
  extra: { session: { 'intra_op.allow_spinning': '0' } },
};

export async function createSession(model: Uint8Array | string): Promise<ort.InferenceSession> {
  return typeof model === 'string'
    ? ort.InferenceSession.create(model, SESSION_OPTIONS)
    : ort.InferenceSession.create(model, SESSION_OPTIONS);
}

export interface Arr { data: Float32Array; dims: number[] }

export async function runSession(s: ort.InferenceSession, feeds: Record<string, Arr>): Promise<Record<string, Arr>> {
  const f: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries(feeds)) f[k] = new ort.Tensor('float32', v.data, v.dims);
  const out = await s.run(f);
  const r: Record<string, Arr> = {};
  for (const [k, v] of Object.entries(out)) r[k] = { data: v.data as Float32Array, dims: [...v.dims] };
  return r;
}

/** Decodes one frame (PNG/JPEG/video at `seekS`) and resizes/letterboxes it to the preset: raw RGB24. */
export async function readFrameRgb(file: string, w: number, h: number, opts: { seekS?: number; letterbox?: boolean; padValue?: number; srcW?: number; srcH?: number } = {}): Promise<Uint8Array> {
  let vf = `scale=${w}:${h}`;
  if (opts.letterbox && opts.srcW && opts.srcH) {
    const r = Math.min(w / opts.srcW, h / opts.srcH);
    const sw = Math.round(opts.srcW * r), sh = Math.round(opts.srcH * r);
    const pv = (opts.padValue ?? 0).toString(16).padStart(2, '0');
    vf = `scale=${sw}:${sh},pad=${w}:${h}:0:0:color=0x${pv}${pv}${pv}`;
  }
  const args = ['-v', 'error'];
  if (opts.seekS && opts.seekS > 0) args.push('-ss', String(opts.seekS));
  args.push('-i', file, '-frames:v', '1', '-vf', vf, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1');
  const { stdout } = await execFileP('ffmpeg', args, { encoding: 'buffer', maxBuffer: 64 << 20 });
  if (stdout.length !== w * h * 3) throw new Error(`ffmpeg returned ${stdout.length} bytes for ${w}x${h}`);
  return new Uint8Array(stdout);
}

export async function probeSize(file: string): Promise<{ width: number; height: number }> {
  const { stdout } = await execFileP('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', file]);
  const [width, height] = stdout.trim().split(',').map(Number);
  return { width, height };
}

/** RGB24 → the preset's [1,3,H,W] float tensor, with the models' own tensor writer. */
export function toModelInput(rgb: Uint8Array, p: ModelPreset): Arr {
  const frame = { width: p.width, height: p.height, data: rgb };
  const mean = p.mean.map((m) => m * 255) as [number, number, number];
  const scale = p.std.map((s) => 1 / (255 * s)) as [number, number, number];
  const data = toPlanarTensor(frame, { width: p.width, height: p.height, order: p.order, mean, scale, pad: p.padValue });
  return { data, dims: [1, 3, p.height, p.width] };
}

export async function loadPresetFrame(p: ModelPreset, file: string, seekS: number): Promise<Arr> {
  const src = await probeSize(file);
  const rgb = await readFrameRgb(file, p.width, p.height, { seekS, letterbox: p.letterbox, padValue: p.padValue, srcW: src.width, srcH: src.height });
  return toModelInput(rgb, p);
}

/** Score map S(Y) in JS, mirroring the in-graph builders. */
export function scoreMapValues(name: ScoreMapName, y: Arr): Float32Array {
  const d = y.data, dims = y.dims;
  switch (name) {
    case 'yolox': {
      const [, R, F] = dims; const C = F - 5;
      const s = new Float32Array(R * C);
      for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) s[r * C + c] = d[r * F + 4] * d[r * F + 5 + c];
      return s;
    }
    case 'fastestdet': {
      const [, F, H, W] = dims; const hw = H * W;
      const s = new Float32Array((F - 5) * hw);
      for (let c = 0; c < F - 5; c++) for (let i = 0; i < hw; i++)
        s[c * hw + i] = Math.max(d[i], 1e-6) ** 0.6 * Math.max(d[(5 + c) * hw + i], 1e-6) ** 0.4;
      return s;
    }
    case 'ultraface': {
      const [, R] = dims;
      const s = new Float32Array(R);
      for (let r = 0; r < R; r++) s[r] = d[r * 2 + 1];
      return s;
    }
    case 'ppocr':
      return Float32Array.from(d);
  }
}

/** Mask of detections of interest: S above threshold, or the top-k entries if none is. */
export function maskFromScores(s: Float32Array, threshold: number, topK = 8): Float32Array {
  const m = new Float32Array(s.length);
  let n = 0;
  for (let i = 0; i < s.length; i++) if (s[i] > threshold) { m[i] = 1; n++; }
  if (n === 0) {
    const idx = [...s.keys()].sort((a, b) => s[b] - s[a]).slice(0, topK);
    for (const i of idx) m[i] = 1;
  }
  return m;
}

export interface CheckResult {
  maxRelError: number;
  errors: { kind: 'direction' | 'pixel'; ad: number; fd: number; rel: number }[];
  proxy: number;
  maskCount: number;
  gradNorm: number;
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32; };
}

/**
 * Compares ⟨dX, v⟩ from the fused model with the original model's proxy along v:
 * A(X+εv) − A(X−εv) against ∫ ⟨dX(X+tv), v⟩ dt (3-point Gauss–Legendre), which stays accurate
 * where ReLU/MaxPool switch inside the step; ε is in model units.
 */
export async function gradientCheck(opts: {
  original: ort.InferenceSession; fused: ort.InferenceSession; scoreMap: ScoreMapName; yName: string;
  x: Arr; threshold: number; eps: number; directions: number; pixels: number; seed?: number;
  /** Composite quadrature: ReLU/MaxPool kinks inside the step need several panels. */
  segments?: number;
}): Promise<CheckResult> {
  const { original, fused, scoreMap, x } = opts;
  const inName = original.inputNames[0];
  const fInName = fused.inputNames.find((n) => n !== 'mask') as string;
  const y0 = (await runSession(original, { [inName]: x }))[opts.yName];
  const s0 = scoreMapValues(scoreMap, y0);
  const mask = maskFromScores(s0, opts.threshold);
  const maskMeta = fused.inputMetadata.find((m) => m.name === 'mask') as unknown as { shape?: number[] } | undefined;
  const maskArr: Arr = { data: mask, dims: maskMeta?.shape ? [...maskMeta.shape] : [mask.length] };
  const f = async (xv: Float32Array): Promise<number> => {
    const y = (await runSession(original, { [inName]: { data: xv, dims: x.dims } }))[opts.yName];
    return proxyValue(scoreMapValues(scoreMap, y), mask);
  };
  const grad = async (xv: Float32Array): Promise<Float32Array> =>
    (await runSession(fused, { [fInName]: { data: xv, dims: x.dims }, mask: maskArr })).dX.data;
  const g0 = await grad(x.data);
  const r = rng(opts.seed ?? 1);
  const dirs: { kind: 'direction' | 'pixel'; v: Float32Array }[] = [];
  for (let k = 0; k < opts.directions; k++) dirs.push({ kind: 'direction', v: Float32Array.from(x.data, () => (r() < 0.5 ? -1 : 1)) });
  const order = [...g0.keys()].sort((a, b) => Math.abs(g0[b]) - Math.abs(g0[a]));
  for (let k = 0; k < opts.pixels; k++) {
    const v = new Float32Array(x.data.length);
    v[order[k * 97 % Math.min(order.length, 2000)]] = 1;
    dirs.push({ kind: 'pixel', v });
  }
  const gl = [[-Math.sqrt(3 / 5), 5 / 9], [0, 8 / 9], [Math.sqrt(3 / 5), 5 / 9]];
  const errors: CheckResult['errors'] = [];
  for (const { kind, v } of dirs) {
    const at = (t: number): Float32Array => Float32Array.from(x.data, (xi, i) => xi + t * v[i]);
    const fd = (await f(at(opts.eps))) - (await f(at(-opts.eps)));
    let ad = 0;
    const segs = opts.segments ?? 4;
    const h = (2 * opts.eps) / segs;
    for (let sIdx = 0; sIdx < segs; sIdx++) {
      const mid = -opts.eps + (sIdx + 0.5) * h;
      for (const [node, w] of gl) {
        const gi = await grad(at(mid + (node * h) / 2));
        let dot = 0;
        for (let i = 0; i < v.length; i++) if (v[i] !== 0) dot += gi[i] * v[i];
        ad += (w * h * dot) / 2;
      }
    }
    const rel = Math.abs(ad - fd) / Math.max(Math.abs(ad), Math.abs(fd), 1e-12);
    errors.push({ kind, ad, fd, rel });
  }
  let gn = 0;
  for (const v of g0) gn += v * v;
  return {
    maxRelError: Math.max(...errors.map((e) => e.rel)), errors, proxy: proxyValue(s0, mask),
    maskCount: mask.reduce((a, b) => a + b, 0), gradNorm: Math.sqrt(gn),
  };
}

/** Median wall-clock ms of `fn` over `n` runs after 2 warm-ups. */
export async function medianMs(fn: () => Promise<unknown>, n = 10): Promise<number> {
  for (let i = 0; i < 2; i++) await fn();
  const t: number[] = [];
  for (let i = 0; i < n; i++) { const s = performance.now(); await fn(); t.push(performance.now() - s); }
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)];
}
