// The OneAdapt accuracy proxy A = Σ mask · σ(20·(S − 0.5)) and per-model score maps S(Y).
import type { Builder } from './graph.js';

export interface ScoreMap {
  /** Which model output is Y. */
  pickOutput(outputs: readonly string[]): string;
  /** Emits S from Y; returns its name. */
  build(b: Builder, y: string, yShape: number[]): string;
  /** Shape of S (= shape of the mask) for a given Y shape. */
  shape(yShape: number[]): number[];
}

const first = (outputs: readonly string[]): string => outputs[0];
const EPS = 1e-6;

function sliceAxis(b: Builder, t: string, axis: number, start: number, end: number): string {
  return b.op('Slice', [t, b.constI64([start]), b.constI64([end]), b.constI64([axis])]);
}

export const scoreMaps = {
  /** YOLOX: objectness × class score, [1, anchors, 80]. */
  yolox: {
    pickOutput: first,
    build: (b, y, ys) => b.op('Mul', [sliceAxis(b, y, 2, 4, 5), sliceAxis(b, y, 2, 5, ys[2])]),
    shape: (ys) => [ys[0], ys[1], ys[2] - 5],
  },
  /** FastestDet: obj^0.6 · cls^0.4 over the 22×22 grid, [1, 80, H, W]; clamped so the pow has a derivative at 0. */
  fastestdet: {
    pickOutput: first,
    build: (b, y, ys) => {
      const eps = b.constF([EPS], []);
      const obj = b.op('Pow', [b.op('Clip', [sliceAxis(b, y, 1, 0, 1), eps]), b.constF([0.6], [])]);
      const cls = b.op('Pow', [b.op('Clip', [sliceAxis(b, y, 1, 5, ys[1]), eps]), b.constF([0.4], [])]);
      return b.op('Mul', [obj, cls]);
    },
    shape: (ys) => [ys[0], ys[1] - 5, ys[2], ys[3]],
  },
  /** UltraFace: face-class probability per anchor, [1, anchors]. */
  ultraface: {
    pickOutput: (outputs) => outputs.find((o) => o === 'scores') ?? outputs[0],
    build: (b, y) => b.op('Squeeze', [sliceAxis(b, y, 2, 1, 2), b.constI64([2])]),
    shape: (ys) => [ys[0], ys[1]],
  },
  /** PP-OCR det: the probability map itself. */
  ppocr: {
    pickOutput: first,
    build: (b, y) => b.op('Identity', [y]),
    shape: (ys) => ys,
  },
} satisfies Record<'yolox' | 'fastestdet' | 'ultraface' | 'ppocr', ScoreMap>;

export type ScoreMapName = keyof typeof scoreMaps;
export const SCORE_MAP_NAMES = Object.keys(scoreMaps) as ScoreMapName[];

/** Emits A = Σ mask · σ(20(S − 0.5)) as a scalar. */
export function buildProxy(b: Builder, s: string, mask: string): string {
  const z = b.op('Mul', [b.op('Sub', [s, b.constF([0.5], [])]), b.constF([20], [])]);
  return b.op('ReduceSum', [b.op('Mul', [b.op('Sigmoid', [z]), mask])], { keepdims: 0 });
}

/** The same proxy in plain JS (for checks): Σ mask · σ(20(s − 0.5)). */
export function proxyValue(s: ArrayLike<number>, mask: ArrayLike<number>): number {
  let a = 0;
  for (let i = 0; i < s.length; i++) if (mask[i]) a += mask[i] / (1 + Math.exp(-20 * (s[i] - 0.5)));
  return a;
}
