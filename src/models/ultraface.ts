import type { RawFrame } from '../media/types.js';
import { resizeBilinear, toPlanarTensor } from './image.js';
import { nms } from './nms.js';
import { proxySlope } from './proxy.js';
import type { Detection, FitSize, ModelSpec } from './types.js';

/**
 * Ultra-Light face detector: input [1,3,240,320] RGB (x−127)/128, plain resize; outputs
 * `scores` [1,N,2] (background, face) and `boxes` [1,N,4] normalised corners.
 */
export function ultraFaceSpec(opts: { name: string; path: string }): ModelSpec {
  const width = 320;
  const height = 240;
  const anchors = 4420;
  const spec: ModelSpec = {
    name: opts.name,
    family: 'ultraface',
    path: opts.path,
    inputName: 'input',
    inputWidth: width,
    inputHeight: height,
    outputNames: ['scores', 'boxes'],
    scoreOutput: 'scores',
    scoreMapSize: anchors,
    scoreMapDims: [1, anchors],
    scoreMap: 'ultraface',
    classNames: ['face'],
    pixelScale: 255 / 128,
    scoreThreshold: 0.3,
    decisionThreshold: 0.5,
    defaultClassesOfInterest: [0],
    fitSize(fw, fh): FitSize {
      return { width, height, transform: { scaleX: width / fw, scaleY: height / fh, padX: 0, padY: 0 } };
    },
    toTensor(frame: RawFrame, fit: FitSize): Float32Array {
      const placed = resizeBilinear(frame, fit.width, fit.height);
      return toPlanarTensor(placed, { width, height, order: 'rgb', mean: [127, 127, 127], scale: [1 / 128, 1 / 128, 1 / 128], pad: 0 });
    },
    decode(outputs, _fit, fw, fh): Detection[] {
      const scores = outputs.scores;
      const boxes = outputs.boxes;
      if (scores.length !== anchors * 2 || boxes.length !== anchors * 4) {
        throw new Error(`${opts.name}: expected scores ${anchors}×2 and boxes ${anchors}×4, got ${scores.length} and ${boxes.length}`);
      }
      const candidates: Detection[] = [];
      for (let r = 0; r < anchors; r++) {
        const score = scores[r * 2 + 1];
        if (score < spec.scoreThreshold) continue;
        const b = r * 4;
        candidates.push({ cls: 0, score, box: [boxes[b] * fw, boxes[b + 1] * fh, boxes[b + 2] * fw, boxes[b + 3] * fh], index: r });
      }
      return nms(candidates, 0.3);
    },
    proxySeed(outputs, detections): Float32Array {
      const seed = new Float32Array(outputs.scores.length);
      for (const d of detections) seed[d.index * 2 + 1] += proxySlope(outputs.scores[d.index * 2 + 1]);
      return seed;
    },
  };
  return spec;
}
