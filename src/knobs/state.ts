import type { KnobName, KnobSetting, KnobSpaces } from './space.js';
import { KNOB_NAMES } from './space.js';

/** Continuous knob state x ∈ (0, 1]; 1 is the most expensive level. */
export type KnobState = Record<KnobName, number>;

export const X_MIN = 1e-7;

/**
 * With N levels and δ = 1/(N−1), x ∈ (1−(i+1)δ, 1−iδ] selects level i (the expensive
 * neighbour of the interval); level i+1 is "one step cheaper". As in the paper, the
 * cheapest level is only ever the probe of its neighbour, never selected itself.
 */
export function levelIndex(x: number, levels: number): number {
  if (levels <= 1) return 0;
  const delta = 1 / (levels - 1);
  const clamped = Math.min(Math.max(x, X_MIN), 1);
  // Round away float noise so that x exactly on 1−iδ selects level i.
  const i = Math.floor(Number(((1 - clamped) / delta).toFixed(9)));
  return Math.min(Math.max(i, 0), levels - 2);
}

export function cheaperIndex(index: number, levels: number): number {
  return Math.min(index + 1, levels - 1);
}

export function settingFromState(state: KnobState, spaces: KnobSpaces): KnobSetting {
  // A state saved before a knob existed holds no x for it: that knob stays at its reference.
  const pick = (k: KnobName) => spaces[k][levelIndex(state[k] ?? 1, spaces[k].length)];
  return { qp: pick('qp'), resolution: pick('resolution'), fps: pick('fps'), roi: pick('roi') };
}

export function initialState(): KnobState {
  return { qp: 1, resolution: 1, fps: 1, roi: 1 };
}

/** The x at the top of level i's interval: discretising it gives back level i. */
export function stateForLevel(index: number, levels: number): number {
  if (levels <= 1) return 1;
  return 1 - index / (levels - 1);
}

export function stateFromSetting(setting: KnobSetting, spaces: KnobSpaces): KnobState {
  const out = initialState();
  for (const k of KNOB_NAMES) {
    const i = spaces[k].indexOf(setting[k]);
    out[k] = stateForLevel(i < 0 ? 0 : i, spaces[k].length);
  }
  return out;
}
