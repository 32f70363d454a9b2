import { CALIBRATION_PRIOR, lossPerRec, type Calibration } from '../../src/adapt/calibration.js';
import type { KnobName, KnobSpaces } from '../../src/knobs/space.js';
import type { CalibrationPair } from './calibration-score.js';
import type { PolicyTrace } from './drive.js';
import type { LabOutcome, SegmentLab } from './segment-lab.js';

/** Knobs scored: roi's cheaper level depends on a region the bench would have to re-derive. */
const SCORED: readonly KnobName[] = ['qp', 'resolution', 'fps'];

/**
 * Every probed segment of a gradient run, every scored knob: the one-step-cheaper level encoded
 * and inferred on that segment (cached like any measurement), its F1 and bytes against the
 * prediction the policy stepped on. The prediction uses the calibration and price the policy
 * held at that step (the prior scale and no price for λ-mode runs without them).
 */
export async function calibrationPairs(lab: SegmentLab, trace: PolicyTrace<LabOutcome>, spaces: KnobSpaces): Promise<CalibrationPair[]> {
  const pairs: CalibrationPair[] = [];
  for (const row of trace.rows) {
    if (!row.terms) continue;
    const state = (row.state ?? {}) as { calibration?: Calibration; logLambda?: number };
    const c = lossPerRec(state.calibration ?? CALIBRATION_PRIOR);
    const lambda = state.logLambda === undefined ? undefined : Math.exp(state.logLambda);
    const refBytes = (await lab.reference(row.seq)).bytes;
    for (const t of row.terms) {
      if (!SCORED.includes(t.knob)) continue;
      const ladder = spaces[t.knob];
      const i = ladder.indexOf(row.setting[t.knob]);
      if (i < 0 || i + 1 >= ladder.length) continue;
      const cheaper = { ...row.setting, [t.knob]: ladder[i + 1] };
      const lq = await lab.evaluate(row.seq, cheaper, row.roiMask);
      const predictedLoss = c * (t.recLq - t.recHq);
      const realisedLoss = row.outcome.f1 - lq.f1;
      const pair: CalibrationPair = { predictedLoss, realisedLoss };
      if (lambda !== undefined) {
        pair.predictedGain = lambda * (t.bwHq - t.bwLq) - predictedLoss;
        pair.realisedGain = (lambda * (row.outcome.bytes - lq.bytes)) / refBytes - realisedLoss;
      }
      pairs.push(pair);
    }
  }
  return pairs;
}
