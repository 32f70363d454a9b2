import { KNOB_NAMES, type KnobName } from '../knobs/space.js';
import { X_MIN, settingFromState, type KnobState } from '../knobs/state.js';
import { knobGradient, type GradientWeights } from './accgrad.js';
import { adamStep, ZERO_MOMENTS, type AdamConfig, type AdamMoments } from './adam.js';
import type { Policy } from './policy.js';
import { PolicyError } from './policy-error.js';

export interface OneAdaptParams extends GradientWeights, AdamConfig {
  /** Knobs that adapt; the others stay at their reference level. */
  knobs: KnobName[];
  /** Initial x of every adapting knob (1 = reference quality, as in the paper). */
  start: number;
}

/** Defaults tuned on the shared footage (README: "Tuning adaptation"). */
export const ONEADAPT_DEFAULTS: OneAdaptParams = {
  wRec: 1,
  lambdaBw: 0.1,
  lambdaGpu: 0,
  lr: 0.2,
  beta1: 0.5,
  beta2: 0.5,
  eps: 1e-8,
  knobs: ['qp', 'resolution', 'fps', 'roi'],
  start: 1,
};

export interface OneAdaptState {
  x: KnobState;
  moments: Record<KnobName, AdamMoments>;
  /** Last gradient per knob, for reports and debugging. */
  lastGrad: Partial<Record<KnobName, number>>;
}

const PARAM_KEYS: Record<string, keyof Omit<OneAdaptParams, 'knobs'>> = {
  wrec: 'wRec',
  lambda: 'lambdaBw',
  bw: 'lambdaBw',
  gpu: 'lambdaGpu',
  lr: 'lr',
  beta1: 'beta1',
  beta2: 'beta2',
  start: 'start',
};

/**
 * Where each parameter means something: Adam's moments need β in [0, 1) (β = 1 divides by
 * zero in the bias correction and yields NaN knobs), a step needs lr > 0, x lives in (0, 1].
 */
const PARAM_RANGES: Record<keyof Omit<OneAdaptParams, 'knobs' | 'eps'>, { ok: (v: number) => boolean; range: string }> = {
  wRec: { ok: (v) => v >= 0, range: '≥ 0' },
  lambdaBw: { ok: (v) => v >= 0, range: '≥ 0' },
  lambdaGpu: { ok: (v) => v >= 0, range: '≥ 0' },
  lr: { ok: (v) => v > 0 && v <= 1, range: 'in (0, 1]' },
  beta1: { ok: (v) => v >= 0 && v < 1, range: 'in [0, 1)' },
  beta2: { ok: (v) => v >= 0 && v < 1, range: 'in [0, 1)' },
  start: { ok: (v) => v > 0 && v <= 1, range: 'in (0, 1]' },
};

/** `lambda=2e-3,lr=0.3,knobs=qp+resolution` → parameters over the defaults. */
export function parseOneAdaptParams(text: string): OneAdaptParams {
  const p: OneAdaptParams = { ...ONEADAPT_DEFAULTS, knobs: [...ONEADAPT_DEFAULTS.knobs] };
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [key, value] = part.split('=');
    if (key === 'knobs') {
      const ks = (value ?? '').split('+').filter(Boolean);
      const bad = ks.filter((k) => !KNOB_NAMES.includes(k as KnobName));
      if (ks.length === 0 || bad.length > 0) throw new PolicyError(`bad oneadapt parameter "${part}": knobs is a + list of ${KNOB_NAMES.join(', ')}`);
      p.knobs = ks as KnobName[];
      continue;
    }
    const field = PARAM_KEYS[key];
    const v = Number(value);
    if (!field || value === undefined || value.trim() === '' || !Number.isFinite(v)) {
      throw new PolicyError(`bad oneadapt parameter "${part}": expected ${[...Object.keys(PARAM_KEYS), 'knobs'].join('|')}=<number>`);
    }
    const range = PARAM_RANGES[field as keyof typeof PARAM_RANGES];
    if (!range.ok(v)) throw new PolicyError(`bad oneadapt parameter "${part}": ${key} must be ${range.range}`);
    p[field] = v;
  }
  return p;
}

/**
 * OneAdapt: one Adam step per probed segment on each knob's continuous state, along
 * −AccGrad + resource gradient; the discretised state is the next segment's setting.
 */
export function oneAdaptPolicy(params: OneAdaptParams = ONEADAPT_DEFAULTS, spec = ''): Policy<OneAdaptState> {
  const init = (): OneAdaptState => ({
    x: Object.fromEntries(KNOB_NAMES.map((k) => [k, params.knobs.includes(k) ? Math.min(1, Math.max(X_MIN, params.start)) : 1])) as KnobState,
    moments: Object.fromEntries(KNOB_NAMES.map((k) => [k, ZERO_MOMENTS])) as Record<KnobName, AdamMoments>,
    lastGrad: {},
  });
  return {
    name: spec ? `oneadapt:${spec}` : 'oneadapt',
    needsGradients: true,
    probedKnobs: params.knobs,
    initial: (ctx) => {
      const state = init();
      return { state, setting: settingFromState(state.x, ctx.spaces) };
    },
    step: (state, fb, ctx) => {
      if (!fb.gradients || fb.gradients.length === 0 || fb.error) return { state, setting: settingFromState(state.x, ctx.spaces) };
      const next: OneAdaptState = { x: { ...state.x }, moments: { ...state.moments }, lastGrad: {} };
      for (const terms of fb.gradients) {
        const knob = terms.knob as KnobName;
        if (!params.knobs.includes(knob)) continue;
        const g = knobGradient(terms, ctx.spaces[knob].length, params);
        const { delta, moments } = adamStep(state.moments[knob] ?? ZERO_MOMENTS, g, params);
        next.moments[knob] = moments;
        next.x[knob] = Math.min(1, Math.max(X_MIN, (state.x[knob] ?? 1) + delta));
        next.lastGrad[knob] = g;
      }
      return { state: next, setting: settingFromState(next.x, ctx.spaces) };
    },
  };
}
