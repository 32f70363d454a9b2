// Whole-model gradient check, numeric side only: the fused model's ⟨dX, v⟩ against finite
// differences of the original model's proxy. Pure: the caller passes functions that run the models
// (app/model-check runs them on onnxruntime), so this module never touches a session.
import { type ScoreMapName, proxyValue, scoreMaps } from './objective.js';

/** A float32 tensor as plain data. */
export interface Tensor32 {
  data: Float32Array;
  dims: number[];
}

/** Score map S(Y) in JS, mirroring the in-graph builders of objective.ts. */
export function scoreMapValues(name: ScoreMapName, y: Tensor32): Float32Array {
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

/** The two models a check compares, as functions of the input X (shaped like `x.dims`). */
export interface CheckedModels {
  /** The original model's score output Y at X. */
  forward(x: Float32Array): Promise<Tensor32>;
  /** The fused model's dX at X for the given mask (shaped like S). */
  gradient(x: Float32Array, mask: Tensor32): Promise<Float32Array>;
}

export interface GradientCheckOptions {
  scoreMap: ScoreMapName;
  x: Tensor32;
  /** Detection threshold on S that selects the mask. */
  threshold: number;
  /** Half step, in model-input units. */
  eps: number;
  directions: number;
  pixels: number;
  seed?: number;
  /** Composite quadrature: ReLU/MaxPool kinks inside the step need several panels. */
  segments?: number;
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
export async function gradientCheck(models: CheckedModels, opts: GradientCheckOptions): Promise<CheckResult> {
  const { scoreMap, x } = opts;
  const y0 = await models.forward(x.data);
  const s0 = scoreMapValues(scoreMap, y0);
  const mask = maskFromScores(s0, opts.threshold);
  const maskArr: Tensor32 = { data: mask, dims: scoreMaps[scoreMap].shape(y0.dims) };
  const f = async (xv: Float32Array): Promise<number> => proxyValue(scoreMapValues(scoreMap, await models.forward(xv)), mask);
  const grad = (xv: Float32Array): Promise<Float32Array> => models.gradient(xv, maskArr);
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
