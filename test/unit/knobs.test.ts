import { describe, expect, it } from 'vitest';
import { encodedKnobs, knobsLabel } from '../../src/knobs/encode.js';
import { DEFAULT_SPACES, KnobError, parseSetting, referenceSetting, scaledSize, validateSpaces } from '../../src/knobs/space.js';
import { levelIndex, settingFromState, stateForLevel, stateFromSetting } from '../../src/knobs/state.js';

describe('knob levels', () => {
  it('maps x to the expensive neighbour of its interval', () => {
    // 5 levels: δ = 0.25; (0.75, 1] → 0, (0.5, 0.75] → 1, (0.25, 0.5] → 2, (0, 0.25] → 3.
    expect(levelIndex(1, 5)).toBe(0);
    expect(levelIndex(0.76, 5)).toBe(0);
    expect(levelIndex(0.75, 5)).toBe(1);
    expect(levelIndex(0.5, 5)).toBe(2);
    expect(levelIndex(0.49, 5)).toBe(2);
    expect(levelIndex(0.1, 5)).toBe(3);
    expect(levelIndex(1e-9, 5)).toBe(3);
    expect(levelIndex(0.3, 1)).toBe(0);
  });

  it('round-trips level → state → level for every knob and level', () => {
    for (const levels of Object.values(DEFAULT_SPACES)) {
      for (let i = 0; i < levels.length - 1; i++) expect(levelIndex(stateForLevel(i, levels.length), levels.length)).toBe(i);
    }
    const setting = { qp: 32, resolution: 0.67, fps: 6, roi: 8 };
    expect(settingFromState(stateFromSetting(setting, DEFAULT_SPACES), DEFAULT_SPACES)).toEqual(setting);
  });

  it('parses settings and rejects bad ones with what was expected', () => {
    const ref = referenceSetting();
    expect(parseSetting('qp=28,fps=5', ref)).toEqual({ qp: 28, resolution: 1, fps: 5, roi: 0 });
    expect(parseSetting('resolution=480x270', ref, 960).resolution).toBeCloseTo(0.5);
    expect(parseSetting('', ref)).toEqual(ref);
    expect(() => parseSetting('qp=99', ref)).toThrow(/0\.\.51/);
    expect(() => parseSetting('speed=3', ref)).toThrow(KnobError);
    expect(() => validateSpaces({ ...DEFAULT_SPACES, qp: [30, 20] })).toThrow(/expensive to cheap/);
  });

  it('gives even encode sizes and report labels', () => {
    expect(scaledSize(320, 240, 0.33)).toEqual({ width: 106, height: 80 });
    expect(knobsLabel(encodedKnobs({ qp: 28, resolution: 0.67, fps: 10, roi: 8 }, 960, 540))).toEqual({ qp: 28, resolution: '644x362', fps: 10, roi: 8 });
  });
});

describe('knob ladders', () => {
  it('parses per-stream ladders over the defaults and validates them', async () => {
    const { parseSpaces } = await import('../../src/knobs/space.js');
    const s = parseSpaces('qp=20,22,24;fps=10,5');
    expect(s.qp).toEqual([20, 22, 24]);
    expect(s.fps).toEqual([10, 5]);
    expect(s.resolution).toEqual(DEFAULT_SPACES.resolution);
    expect(() => parseSpaces('qp=30,20')).toThrow(/expensive to cheap/);
    expect(() => parseSpaces('zoom=1,2')).toThrow(/bad knob ladder "zoom=1,2"/);
  });
});
