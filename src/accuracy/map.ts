import { iou } from '../models/nms.js';
import type { Detection } from '../models/types.js';

/**
 * Average precision of one class at an IoU threshold over many frames: predictions ranked by
 * score, each a true positive when it matches an unmatched reference box of its frame;
 * the area under the precision envelope (all-point interpolation, as VOC 2010+ and COCO).
 */
function classAp(predicted: readonly Detection[][], reference: readonly Detection[][], cls: number, iouThreshold: number): number {
  const gt = reference.map((ds) => ds.filter((d) => d.cls === cls));
  const nGt = gt.reduce((s, ds) => s + ds.length, 0);
  const preds = predicted.flatMap((ds, frame) => ds.filter((d) => d.cls === cls).map((d) => ({ d, frame }))).sort((a, b) => b.d.score - a.d.score);
  const used = gt.map((ds) => new Array<boolean>(ds.length).fill(false));
  const precision: number[] = [];
  const recall: number[] = [];
  let tp = 0;
  preds.forEach(({ d, frame }, i) => {
    let best = -1;
    let bestIou = iouThreshold;
    gt[frame].forEach((g, j) => {
      if (used[frame][j]) return;
      const v = iou(d.box, g.box);
      if (v > bestIou) {
        bestIou = v;
        best = j;
      }
    });
    if (best >= 0) {
      used[frame][best] = true;
      tp++;
    }
    precision.push(tp / (i + 1));
    recall.push(tp / nGt);
  });
  let ap = 0;
  let prevRecall = 0;
  for (let i = 0; i < precision.length; i++) {
    // The envelope: the best precision at this recall or any higher one.
    let p = 0;
    for (let j = i; j < precision.length; j++) p = Math.max(p, precision[j]);
    ap += (recall[i] - prevRecall) * p;
    prevRecall = recall[i];
  }
  return ap;
}

/**
 * mAP at IoU > `iouThreshold` of `predicted` against `reference` (per frame, same length),
 * averaged over the classes present in the reference (COCO's convention). Both empty → 1.
 */
export function meanAveragePrecision(predicted: readonly Detection[][], reference: readonly Detection[][], classes?: ReadonlySet<number>, iouThreshold = 0.5): number {
  if (predicted.length !== reference.length) throw new Error(`mAP needs one prediction list per reference frame: ${predicted.length} vs ${reference.length}`);
  const keep = (ds: Detection[]) => (classes ? ds.filter((d) => classes.has(d.cls)) : ds);
  const pred = predicted.map(keep);
  const ref = reference.map(keep);
  const present = [...new Set(ref.flatMap((ds) => ds.map((d) => d.cls)))];
  if (present.length === 0) return pred.every((ds) => ds.length === 0) ? 1 : 0;
  return present.reduce((s, c) => s + classAp(pred, ref, c, iouThreshold), 0) / present.length;
}
