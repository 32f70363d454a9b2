import { describe, expect, it } from 'vitest';
import { policyFromSpec } from '../../src/adapt/policies.js';
import { carriesRegion, type PolicyContext, type SegmentFeedback } from '../../src/adapt/policy.js';
import { DEFAULT_SPACES } from '../../src/knobs/space.js';

const ctx: PolicyContext = { spaces: DEFAULT_SPACES, sourceWidth: 320, sourceHeight: 240 };
const fb = (seq: number): SegmentFeedback => ({ seq, setting: { qp: 20, resolution: 1, fps: 10, roi: 0 }, bytes: 1, frames: 10, proxy: 1, f1: 1 });

describe('policies', () => {
  it('send the region of interest only where the ingest uses it', () => {
    const ref = fb(0).setting;
    expect(carriesRegion(policyFromSpec('fixed:'), ref, DEFAULT_SPACES)).toBe(false);
    expect(carriesRegion(policyFromSpec('fixed:roi=8'), { ...ref, roi: 8 }, DEFAULT_SPACES)).toBe(true);
    expect(carriesRegion(policyFromSpec('oneadapt'), ref, DEFAULT_SPACES)).toBe(true);
    expect(carriesRegion(policyFromSpec('oneadapt:knobs=qp+fps'), ref, DEFAULT_SPACES)).toBe(false);
    expect(carriesRegion(policyFromSpec('oneadapt'), ref, { ...DEFAULT_SPACES, roi: [0] })).toBe(false);
  });

  it('fixed holds its setting', () => {
    const p = policyFromSpec('fixed:qp=36,fps=5');
    const init = p.initial(ctx);
    expect(init.setting).toEqual({ qp: 36, resolution: 1, fps: 5, roi: 0 });
    expect(p.step(init.state, fb(0), ctx).setting).toEqual(init.setting);
  });

  it('script changes knobs after the named segments only', () => {
    const p = policyFromSpec('script:2@qp=28;4@resolution=0.5,fps=5');
    let state = p.initial(ctx).state;
    const seen = [];
    for (let seq = 0; seq < 6; seq++) {
      const next = p.step(state, fb(seq), ctx);
      state = next.state;
      seen.push({ ...next.setting });
    }
    expect(seen.map((s) => s.qp)).toEqual([20, 20, 28, 28, 28, 28]);
    expect(seen.map((s) => s.fps)).toEqual([10, 10, 10, 10, 5, 5]);
    expect(seen[5].resolution).toBe(0.5);
  });

  it('rejects unknown policies naming the accepted forms', () => {
    expect(() => policyFromSpec('greedy')).toThrow(/unknown policy "greedy": expected one of .*fixed:<knob>=<level>/);
    expect(() => policyFromSpec('script:x@qp=3')).toThrow(/bad script step/);
  });
});
