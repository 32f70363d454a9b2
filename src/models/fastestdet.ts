import type { RawFrame } from '../media/types.js';
import { resizeBilinear, toPlanarTensor } from './image.js';
import { nms } from './nms.js';
import { proxySlope } from './proxy.js';
import type { Detection, FitSize, ModelSpec } from './types.js';

const CHANNELS = 85;
const NUM_CLASSES = 80;
const EPS = 1e-9;

/**
 * FastestDet: input [1,3,S,S] BGR /255, plain resize; output [1,85,G,G] with objectness
 * (sigmoid), tx, ty (raw → tanh), w, h (raw → sigmoid, normalised), 80 class softmax.
 * Score = obj^0.6 · cls^0.4; the score map is [80, G, G].
 */
export function fastestDetSpec(opts: { name: string; path: string; size: number; classNames: string[] }): ModelSpec {
  const size = opts.size;
  const g = size / 16;
  const cells = g * g;
  const output = '758';
  const spec: ModelSpec = {
    name: opts.name,
    family: 'fastestdet',
    path: opts.path,
    inputName: 'input.1',
    inputWidth: size,
    inputHeight: size,
    outputNames: [output],
    scoreOutput: output,
    scoreMapSize: NUM_CLASSES * cells,
    scoreMapDims: [1, NUM_CLASSES, g, g],
    scoreMap: 'fastestdet',
    classNames: opts.classNames,
    pixelScale: 1,
    scoreThreshold: 0.3,
    decisionThreshold: 0.5,
    defaultClassesOfInterest: [0, 1, 2, 3, 5, 7],
    fitSize(fw, fh): FitSize {
      return { width: size, height: size, transform: { scaleX: size / fw, scaleY: size / fh, padX: 0, padY: 0 } };
    },
    toTensor(frame: RawFrame, fit: FitSize): Float32Array {
      const placed = resizeBilinear(frame, fit.width, fit.height);
      return toPlanarTensor(placed, { width: size, height: size, order: 'bgr', mean: [0, 0, 0], scale: [1 / 255, 1 / 255, 1 / 255], pad: 0 });
    },
    decode(outputs, _fit, fw, fh): Detection[] {
      const y = outputs[output];
      if (y.length !== CHANNELS * cells) throw new Error(`${opts.name}: expected output of 85×${g}×${g} floats, got ${y.length}`);
      const candidates: Detection[] = [];
      for (let cell = 0; cell < cells; cell++) {
        const obj = y[cell];
        let best = 0;
        let cls = 0;
        for (let c = 0; c < NUM_CLASSES; c++) {
          const v = y[(5 + c) * cells + cell];
          if (v > best) {
            best = v;
            cls = c;
          }
        }
        const score = Math.pow(Math.max(obj, EPS), 0.6) * Math.pow(Math.max(best, EPS), 0.4);
        if (score < spec.scoreThreshold) continue;
        const gx = cell % g;
        const gy = Math.floor(cell / g);
        const cx = (gx + Math.tanh(y[cells + cell])) / g;
        const cy = (gy + Math.tanh(y[2 * cells + cell])) / g;
        const w = 1 / (1 + Math.exp(-y[3 * cells + cell]));
        const h = 1 / (1 + Math.exp(-y[4 * cells + cell]));
        candidates.push({
          cls,
          score,
          box: [(cx - w / 2) * fw, (cy - h / 2) * fh, (cx + w / 2) * fw, (cy + h / 2) * fh],
          index: cls * cells + cell,
        });
      }
      return nms(candidates, 0.45);
    },
    proxySeed(outputs, detections): Float32Array {
      const y = outputs[output];
      const seed = new Float32Array(y.length);
      for (const d of detections) {
        const cls = Math.floor(d.index / cells);
        const cell = d.index % cells;
        const obj = Math.max(y[cell], EPS);
        const cl = Math.max(y[(5 + cls) * cells + cell], EPS);
        const s = Math.pow(obj, 0.6) * Math.pow(cl, 0.4);
        const k = proxySlope(s);
        seed[cell] += (k * 0.6 * s) / obj;
        seed[(5 + cls) * cells + cell] += (k * 0.4 * s) / cl;
      }
      return seed;
    },
  };
  return spec;
}
