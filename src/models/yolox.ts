import type { RawFrame } from '../media/types.js';
import { resizeBilinear, toPlanarTensor } from './image.js';
import { nms } from './nms.js';
import { proxySlope } from './proxy.js';
import type { Detection, FitSize, ModelSpec } from './types.js';

const STRIDES = [8, 16, 32];
const ROW = 85;
const NUM_CLASSES = 80;

/**
 * YOLOX family: input `images` [1,3,S,S] BGR 0..255, letterboxed at the top-left with 114;
 * output [1, anchors, 85] = x, y, w, h (raw), objectness, 80 class scores (both already sigmoid).
 */
export function yoloxSpec(opts: { name: string; path: string; size: number; classNames: string[]; inputName?: string; outputName?: string }): ModelSpec {
  const size = opts.size;
  const grid = STRIDES.flatMap((s) => {
    const n = size / s;
    const cells: [number, number, number][] = [];
    for (let gy = 0; gy < n; gy++) for (let gx = 0; gx < n; gx++) cells.push([gx, gy, s]);
    return cells;
  });
  const anchors = grid.length;
  const output = opts.outputName ?? 'output';

  const spec: ModelSpec = {
    name: opts.name,
    family: 'yolox',
    path: opts.path,
    inputName: opts.inputName ?? 'images',
    inputWidth: size,
    inputHeight: size,
    outputNames: [output],
    scoreOutput: output,
    scoreMapSize: anchors * NUM_CLASSES,
    scoreMapDims: [1, anchors, NUM_CLASSES],
    scoreMap: 'yolox',
    classNames: opts.classNames,
    pixelScale: 255,
    scoreThreshold: 0.3,
    decisionThreshold: 0.5,
    defaultClassesOfInterest: [0, 1, 2, 3, 5, 7],
    fitSize(fw, fh): FitSize {
      const r = Math.min(size / fw, size / fh);
      const width = Math.max(1, Math.round(fw * r));
      const height = Math.max(1, Math.round(fh * r));
      return { width, height, transform: { scaleX: width / fw, scaleY: height / fh, padX: 0, padY: 0 } };
    },
    toTensor(frame: RawFrame, fit: FitSize): Float32Array {
      const placed = resizeBilinear(frame, fit.width, fit.height);
      return toPlanarTensor(placed, { width: size, height: size, order: 'bgr', mean: [0, 0, 0], scale: [1, 1, 1], pad: 114 });
    },
    decode(outputs, fit): Detection[] {
      const y = outputs[output];
      if (y.length !== anchors * ROW) throw new Error(`${opts.name}: expected output of ${anchors}×${ROW} floats, got ${y.length}`);
      const { scaleX, scaleY } = fit.transform;
      const candidates: Detection[] = [];
      for (let r = 0; r < anchors; r++) {
        const o = r * ROW;
        const obj = y[o + 4];
        if (obj < spec.scoreThreshold) continue;
        let best = 0;
        let cls = 0;
        for (let c = 0; c < NUM_CLASSES; c++) {
          const v = y[o + 5 + c];
          if (v > best) {
            best = v;
            cls = c;
          }
        }
        const score = obj * best;
        if (score < spec.scoreThreshold) continue;
        const [gx, gy, s] = grid[r];
        const cx = (y[o] + gx) * s;
        const cy = (y[o + 1] + gy) * s;
        const w = Math.exp(y[o + 2]) * s;
        const h = Math.exp(y[o + 3]) * s;
        candidates.push({
          cls,
          score,
          box: [(cx - w / 2) / scaleX, (cy - h / 2) / scaleY, (cx + w / 2) / scaleX, (cy + h / 2) / scaleY],
          index: r * NUM_CLASSES + cls,
        });
      }
      return nms(candidates, 0.45);
    },
    proxySeed(outputs, detections): Float32Array {
      const y = outputs[output];
      const seed = new Float32Array(y.length);
      for (const d of detections) {
        const r = Math.floor(d.index / NUM_CLASSES);
        const c = d.index % NUM_CLASSES;
        const obj = y[r * ROW + 4];
        const cl = y[r * ROW + 5 + c];
        const g = proxySlope(obj * cl);
        seed[r * ROW + 4] += g * cl;
        seed[r * ROW + 5 + c] += g * obj;
      }
      return seed;
    },
  };
  return spec;
}
