import { iou } from '../models/nms.js';
import type { Detection } from '../models/types.js';

export interface FrameScore {
  tp: number;
  fp: number;
  fn: number;
  f1: number;
}

/**
 * F1 of `predicted` against `reference` for one frame: a prediction is a true positive when
 * it overlaps an unmatched reference box of the same class with IoU > threshold (greedy,
 * highest score first). Two empty frames agree perfectly (F1 = 1).
 */
export function frameF1(predicted: Detection[], reference: Detection[], iouThreshold = 0.5): FrameScore {
  const matched = new Array<boolean>(reference.length).fill(false);
  let tp = 0;
  for (const p of [...predicted].sort((a, b) => b.score - a.score)) {
    let best = -1;
    let bestIou = iouThreshold;
    for (let r = 0; r < reference.length; r++) {
      if (matched[r] || reference[r].cls !== p.cls) continue;
      const v = iou(p.box, reference[r].box);
      if (v > bestIou) {
        bestIou = v;
        best = r;
      }
    }
    if (best >= 0) {
      matched[best] = true;
      tp++;
    }
  }
  const fp = predicted.length - tp;
  const fn = reference.length - tp;
  const f1 = tp + fp + fn === 0 ? 1 : (2 * tp) / (2 * tp + fp + fn);
  return { tp, fp, fn, f1 };
}

/**
 * Per-frame detections of a segment expanded to every analysis slot: a segment sent at a
 * lower frame rate has fewer frames, and slots between them reuse the previous result.
 */
export function expandToSlots(perFrame: Detection[][], slots: number): Detection[][] {
  if (perFrame.length === 0) return Array.from({ length: slots }, () => []);
  return Array.from({ length: slots }, (_, i) => perFrame[Math.min(perFrame.length - 1, Math.floor((i * perFrame.length) / slots))]);
}

/**
 * Mean per-slot F1 of a segment against the reference's per-slot detections, both restricted
 * to the classes of interest and to scores above `minScore` (the model's decision threshold:
 * weaker outputs feed the accuracy proxy but are not reported objects).
 */
export function segmentF1(predicted: Detection[][], reference: Detection[][], classes?: ReadonlySet<number>, minScore = 0): number {
  const slots = reference.length;
  if (slots === 0) return 1;
  const keep = (ds: Detection[]) => ds.filter((d) => (!classes || classes.has(d.cls)) && d.score > minScore);
  const pred = expandToSlots(predicted, slots);
  let sum = 0;
  for (let i = 0; i < slots; i++) sum += frameF1(keep(pred[i]), keep(reference[i])).f1;
  return sum / slots;
}
