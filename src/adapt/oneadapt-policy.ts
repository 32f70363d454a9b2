import { KNOB_NAMES, type KnobName, type KnobSetting, type KnobSpaces } from '../knobs/space.js';
import { X_MIN, settingFromState, type KnobState } from '../knobs/state.js';
import { knobGradient, type GradientWeights, type KnobTerms } from './accgrad.js';
import { adamStep, ZERO_MOMENTS, type AdamConfig, type AdamMoments } from './adam.js';
import { CALIBRATION_PRIOR, calibrate, lossPerRec, type Calibration } from './calibration.js';
import { budgetError, priceStep, targetError } from './price.js';
import type { FleetReport, FleetView, Policy, PolicyContext, SegmentFeedback } from './policy.js';
import { PolicyError } from './policy-error.js';

export interface OneAdaptParams extends GradientWeights, AdamConfig {
  /** Knobs that adapt; the others stay at their reference level. */
  knobs: KnobName[];
  /** Initial x of every adapting knob (1 = reference quality, as in the paper). */
  start: number;
  /** Target mode: keep the audited F1 at this value for the least cost (λ becomes state). */
  targetF1?: number;
  /** Budget mode: keep the stream's bitrate (kbit/s) within this budget for the most accuracy. */
  budgetKbps?: number;
  /** What target mode saves: bytes (`bw`) or frames inferred (`gpu`). */
  resource: 'bw' | 'gpu';
  /** Target mode's audits: after the first two (EARLY_AUDIT_GAP apart), at most one every this many segments. */
  auditEvery: number;
  /** Target mode's audits: their bytes stay within this share of the stream's own (after the first). */
  auditShare: number;
}

/**
 * Where a stream in target or budget mode starts: QP one third down its ladder (28 on the
 * default one), every other knob at its reference. Frame rate and region of interest are the
 * knobs whose damage depends most on the scene (motion, where objects are), so they start
 * safe and move only on the stream's own gradient.
 */
export const CONSTRAINED_START = 0.7;
/**
 * Target and budget modes measure the accuracy term in F1 (calibrated): a net gradient well
 * below this many F1 per ladder moves x in proportion instead of a whole Adam step, so a
 * knob whose saving and damage balance does not jitter across a level.
 */
export const CONSTRAINED_EPS = 0.02;
/** Segments between target mode's first two audits (the calibration is least certain then). */
export const EARLY_AUDIT_GAP = 4;

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
  resource: 'bw',
  auditEvery: 24,
  auditShare: 0.1,
};

export interface OneAdaptState {
  x: KnobState;
  moments: Record<KnobName, AdamMoments>;
  /** Last gradient per knob, for reports and debugging. */
  lastGrad: Partial<Record<KnobName, number>>;
  /** In a fleet: QP's and resolution's x on the last segment where something of interest was seen. */
  busyX?: Partial<Record<KnobName, number>>;
  /** Target and budget modes: log of the price λ, adjusted online. */
  logLambda?: number;
  /** Target mode: the audits' scale of rec → F1 lost. */
  calibration?: Calibration;
  /** Target mode: F1 predicted for the last probed segment. */
  predictedF1?: number;
  /** Budget mode: exponentially averaged kbit/s of the recent segments. */
  kbps?: number;
  /** Target mode: what the audits cost so far, to keep them within `auditShare`. */
  audits?: AuditLedger;
}

export interface AuditLedger {
  requested: number;
  /** The segment the last audit was asked for (null before the first). */
  lastSeq: number | null;
  /** Bytes of the stream's segments and of its audits so far; bytes of the last audit. */
  streamBytes: number;
  auditBytes: number;
  lastAuditBytes: number;
}

const PARAM_KEYS: Record<string, keyof Omit<OneAdaptParams, 'knobs' | 'resource'>> = {
  wrec: 'wRec',
  lambda: 'lambdaBw',
  bw: 'lambdaBw',
  gpu: 'lambdaGpu',
  lr: 'lr',
  beta1: 'beta1',
  beta2: 'beta2',
  start: 'start',
  'target-f1': 'targetF1',
  'budget-kbps': 'budgetKbps',
  'audit-every': 'auditEvery',
  'audit-share': 'auditShare',
};

/**
 * Where each parameter means something: Adam's moments need β in [0, 1) (β = 1 divides by
 * zero in the bias correction and yields NaN knobs), a step needs lr > 0, x lives in (0, 1].
 */
const PARAM_RANGES: Record<keyof Omit<OneAdaptParams, 'knobs' | 'eps' | 'resource'>, { ok: (v: number) => boolean; range: string }> = {
  wRec: { ok: (v) => v >= 0, range: '≥ 0' },
  lambdaBw: { ok: (v) => v >= 0, range: '≥ 0' },
  lambdaGpu: { ok: (v) => v >= 0, range: '≥ 0' },
  lr: { ok: (v) => v > 0 && v <= 1, range: 'in (0, 1]' },
  beta1: { ok: (v) => v >= 0 && v < 1, range: 'in [0, 1)' },
  beta2: { ok: (v) => v >= 0 && v < 1, range: 'in [0, 1)' },
  start: { ok: (v) => v > 0 && v <= 1, range: 'in (0, 1]' },
  targetF1: { ok: (v) => v > 0 && v < 1, range: 'in (0, 1)' },
  budgetKbps: { ok: (v) => v > 0, range: '> 0' },
  auditEvery: { ok: (v) => Number.isInteger(v) && v >= 1, range: 'a whole number ≥ 1' },
  auditShare: { ok: (v) => v > 0 && v <= 1, range: 'in (0, 1]' },
};

/** Target or budget mode: λ is the stream's state rather than a parameter. */
function isConstrained(p: Pick<OneAdaptParams, 'targetF1' | 'budgetKbps'>): boolean {
  return p.targetF1 !== undefined || p.budgetKbps !== undefined;
}

/** `lambda=2e-3,lr=0.3,knobs=qp+resolution` → parameters over the defaults. */
export function parseOneAdaptParams(text: string): OneAdaptParams {
  const p: OneAdaptParams = { ...ONEADAPT_DEFAULTS, knobs: [...ONEADAPT_DEFAULTS.knobs] };
  let startGiven = false;
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [key, value] = part.split('=');
    if (key === 'resource') {
      if (value !== 'bw' && value !== 'gpu') throw new PolicyError(`bad oneadapt parameter "${part}": resource is bw or gpu`);
      p.resource = value;
      continue;
    }
    if (key === 'start') startGiven = true;
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
      throw new PolicyError(`bad oneadapt parameter "${part}": expected ${[...Object.keys(PARAM_KEYS), 'knobs', 'resource'].join('|')}=<number>`);
    }
    const range = PARAM_RANGES[field as keyof typeof PARAM_RANGES];
    if (!range.ok(v)) throw new PolicyError(`bad oneadapt parameter "${part}": ${key} must be ${range.range}`);
    p[field] = v;
  }
  if (p.targetF1 !== undefined && p.budgetKbps !== undefined) throw new PolicyError('bad oneadapt parameters: target-f1 and budget-kbps are two different modes; give one');
  if (isConstrained(p) && !startGiven) p.start = CONSTRAINED_START;
  if (isConstrained(p)) p.eps = Math.max(p.eps, CONSTRAINED_EPS);
  return p;
}

const NO_AUDITS: AuditLedger = { requested: 0, lastSeq: null, streamBytes: 0, auditBytes: 0, lastAuditBytes: 0 };

/** Counts a segment's bytes (and its audit's) in the ledger. */
function account(ledger: AuditLedger | undefined, fb: SegmentFeedback): AuditLedger {
  const l = ledger ?? NO_AUDITS;
  const audit = fb.auditBytes ?? 0;
  return { ...l, streamBytes: l.streamBytes + fb.bytes, auditBytes: l.auditBytes + audit, lastAuditBytes: audit > 0 ? audit : l.lastAuditBytes };
}

/**
 * Whether target mode asks for an audit of the next segment, after a busy one (an audit of an
 * empty scene measures nothing): the first at once, the second EARLY_AUDIT_GAP later, then at
 * most one every `auditEvery` segments and only while the audits, the next one included, stay
 * within `auditShare` of the stream's bytes — on a cheap stream a reference-quality frame costs
 * many segments, so audits thin out there by themselves.
 */
export function wantsAudit(ledger: AuditLedger, seq: number, p: Pick<OneAdaptParams, 'auditEvery' | 'auditShare'>): boolean {
  if (ledger.requested === 0 || ledger.lastSeq === null) return true;
  const gap = seq + 1 - ledger.lastSeq;
  if (ledger.requested === 1) return gap >= EARLY_AUDIT_GAP;
  return gap >= p.auditEvery && ledger.auditBytes + ledger.lastAuditBytes <= p.auditShare * ledger.streamBytes;
}

/**
 * An empty scene lets QP and resolution drift down to the middle of their ladders (x = 0.5:
 * QP 32 and 0.53 of the source on the default ladders), half a step per segment, and holds frame
 * rate and region of interest: cheaper while nothing is there, still sharp and frequent enough
 * for the first object to walk in to be detected — and once it is, its gradient takes over.
 */
export const EMPTY_FLOOR = 0.5;
/** In a fleet, the largest step up a knob takes, as a share of lr (see the step). */
const UP_SHARE = 0.5;
const EMPTY_DRIFT: readonly KnobName[] = ['qp', 'resolution'];

/** Nothing of interest where the DNN looked: no saliency, so no accuracy term at all. */
function emptyScene(gradients: readonly KnobTerms[]): boolean {
  return gradients.every((t) => t.recHq === 0 && t.recLq === 0);
}

/**
 * The weights of one step. λ mode: the parameters. Target mode: the accuracy term in F1 units
 * (calibrated rec) against the current price of the chosen resource. Budget mode: bytes priced
 * at the current λ against the calibrated accuracy term.
 */
function weightsOf(params: OneAdaptParams, state: OneAdaptState): GradientWeights {
  if (!isConstrained(params)) return params;
  const c = lossPerRec(state.calibration ?? CALIBRATION_PRIOR);
  const lambda = Math.exp(state.logLambda ?? Math.log(params.lambdaBw));
  const gpu = params.targetF1 !== undefined && params.resource === 'gpu';
  return { wRec: c, lambdaBw: gpu ? 0 : lambda, lambdaGpu: gpu ? lambda : 0 };
}

/**
 * The first price: the one at which the stream's starting QP is stationary (its saving and its
 * damage balance), so that the dual steps start from this camera's own trade-off instead of a
 * constant that suits one kind of scene; `lambda` where that cannot be measured.
 */
function initialLogLambda(params: OneAdaptParams, state: OneAdaptState, gradients: readonly KnobTerms[]): number {
  const t = gradients.find((g) => g.knob === 'qp');
  const gpu = params.targetF1 !== undefined && params.resource === 'gpu';
  const saved = t ? (gpu ? t.gpuHq - t.gpuLq : t.bwHq - t.bwLq) : 0;
  const lost = t ? lossPerRec(state.calibration ?? CALIBRATION_PRIOR) * (t.recLq - t.recHq) : 0;
  if (!(saved > 0) || !(lost > 0)) return Math.log(params.lambdaBw);
  return priceStep(Math.log(lost / saved), 0);
}

/**
 * Target and budget modes: update the calibration from an audit, then move the price so that
 * the constraint holds — on the F1 predicted for this segment (target) or on its bitrate
 * (budget, averaged over the last few segments so that one keyframe-heavy segment is not a trend).
 */
function updatePrice(params: OneAdaptParams, state: OneAdaptState, fb: SegmentFeedback, gradients: readonly KnobTerms[], segmentSeconds: number): OneAdaptState {
  const next = { ...state, logLambda: state.logLambda ?? initialLogLambda(params, state, gradients) };
  if (params.targetF1 !== undefined) {
    // Distortion beyond the reference's own: F1 is measured against the reference, not raw.
    const rec = Math.max(0, (gradients[0]?.recHq ?? 0) - (gradients[0]?.recRef ?? 0));
    let calibration = state.calibration ?? CALIBRATION_PRIOR;
    if (typeof fb.auditF1 === 'number') calibration = calibrate(calibration, fb.auditF1, rec);
    const loss = lossPerRec(calibration) * rec;
    next.calibration = calibration;
    next.predictedF1 = 1 - loss;
    // The price of the resource rises while the predicted loss has room (go cheaper).
    next.logLambda = priceStep(next.logLambda, targetError(loss, 1 - params.targetF1));
  } else if (params.budgetKbps !== undefined) {
    const kbps = (fb.bytes * 8) / 1000 / segmentSeconds;
    next.kbps = state.kbps === undefined ? kbps : 0.5 * state.kbps + 0.5 * kbps;
    next.logLambda = priceStep(next.logLambda, budgetError(Math.max(kbps, next.kbps), params.budgetKbps));
  }
  return next;
}

/**
 * The price (in the stream's own units: per fraction of its reference) at which its current
 * operating point is stationary on a resource: F1 lost one level down the ladder that saves the
 * most of it (QP for bytes, frame rate for frames) over what that saves. Undefined where it
 * cannot be measured.
 */
function stationaryPrice(c: number, gradients: readonly KnobTerms[], resource: 'bw' | 'gpu'): number | undefined {
  const t = gradients.find((g) => g.knob === (resource === 'bw' ? 'qp' : 'fps'));
  const saved = t ? (resource === 'bw' ? t.bwHq - t.bwLq : t.gpuHq - t.gpuLq) : 0;
  const lost = t ? c * (t.recLq - t.recHq) : 0;
  return saved > 0 && lost > 0 ? Math.exp(priceStep(Math.log(lost / saved), 0)) : undefined;
}

/**
 * A fleet member's weights: the accuracy term in F1 (calibrated rec), each budgeted resource at
 * the fleet's price converted into the stream's units (a kbit/s is this fraction of its
 * reference: the same price buys a different fraction of every camera), so that every member
 * moves until its marginal F1 per kbit/s equals the fleet's price. The stream's own mode bounds
 * that price: a floor (`target-f1`, when the fleet honours it) lowers it to the floor's own dual
 * price where the floor would otherwise break, a cap (`budget-kbps`) raises it to the cap's. The
 * own price is held within a factor e of the fleet's, so that it answers at once when it starts
 * to bind instead of first unwinding from a bound.
 */
function fleetWeights(params: OneAdaptParams, state: OneAdaptState, view: FleetView, fb: SegmentFeedback, gradients: readonly KnobTerms[], ctx: PolicyContext): { weights: GradientWeights; state: OneAdaptState; report: FleetReport } {
  const c = lossPerRec(state.calibration ?? CALIBRATION_PRIOR);
  const segS = ctx.segmentSeconds ?? 1;
  const qp = gradients.find((t) => t.knob === 'qp') ?? gradients[0];
  // bw terms are fractions of the reference encode's bytes, gpu terms of the reference frame rate.
  const refKbps = qp && qp.bwHq > 0 && fb.bytes > 0 ? (fb.bytes * 8) / 1000 / segS / qp.bwHq : undefined;
  const refFps = ctx.spaces.fps[0];
  const stationaryBw = stationaryPrice(c, gradients, 'bw');
  const stationaryGpu = stationaryPrice(c, gradients, 'gpu');
  const fleetBw = !view.budgetBw ? undefined : view.priceBw !== undefined && refKbps !== undefined ? view.priceBw * refKbps : stationaryBw;
  const fleetGpu = !view.budgetGpu ? undefined : view.priceGpu !== undefined ? view.priceGpu * refFps : stationaryGpu;
  // The stream's own weights in F1 units (λ mode's price is relative to its w_rec).
  const own = weightsOf(params, state);
  const scale = isConstrained(params) ? 1 : c / (params.wRec > 0 ? params.wRec : 1);
  let bw = fleetBw ?? own.lambdaBw * scale;
  let gpu = fleetGpu ?? own.lambdaGpu * scale;
  let next = state;
  let floorBound = false;
  if (state.logLambda !== undefined && params.targetF1 !== undefined) {
    const fleet = params.resource === 'gpu' ? fleetGpu : fleetBw;
    if (fleet !== undefined && fleet > 0) {
      const ownPrice = Math.min(Math.exp(state.logLambda), Math.E * fleet);
      next = { ...state, logLambda: Math.log(ownPrice) };
      floorBound = view.floorHonoured && ownPrice < fleet;
      const price = floorBound ? ownPrice : fleet;
      if (params.resource === 'gpu') gpu = price;
      else bw = price;
    }
  } else if (state.logLambda !== undefined && params.budgetKbps !== undefined && fleetBw !== undefined && fleetBw > 0) {
    const ownPrice = Math.max(Math.exp(state.logLambda), fleetBw / Math.E);
    next = { ...state, logLambda: Math.log(ownPrice) };
    bw = Math.max(fleetBw, ownPrice);
  }
  const report: FleetReport = {
    ...(params.targetF1 !== undefined ? { floorBound } : {}),
    ...(stationaryBw !== undefined && refKbps !== undefined ? { priceHintBw: stationaryBw / refKbps } : {}),
    ...(stationaryGpu !== undefined ? { priceHintGpu: stationaryGpu / refFps } : {}),
  };
  return { weights: { wRec: c, lambdaBw: bw, lambdaGpu: gpu }, state: next, report };
}

/**
 * An empty scene in a fleet (QP and resolution; frame rate and region held, as everywhere): its
 * bytes buy no accuracy now, so the fleet takes them while it is over budget (half a step
 * cheaper per segment) and, while it has room, the stream drifts to the watch floor from either
 * side. Below the level of its last busy segment an empty segment is as likely blindness (the
 * price took the camera where its detector sees nothing) as an empty scene: it climbs back to
 * that level first.
 */
function fleetEmptyDrift(x: KnobState, busyX: Partial<Record<KnobName, number>> | undefined, view: FleetView, params: OneAdaptParams): Partial<Record<KnobName, number>> | undefined {
  const pressures = [view.pressureBw, view.pressureGpu].filter((p): p is number => p !== undefined);
  const over = pressures.length > 0 && Math.max(...pressures) > 0;
  const step = params.lr / 2;
  const seenAt = busyX ? { ...busyX } : undefined;
  for (const k of EMPTY_DRIFT) {
    if (!params.knobs.includes(k)) continue;
    const seen = seenAt?.[k];
    if (seen !== undefined && x[k] < seen) x[k] = Math.min(seen, x[k] + step);
    else if (over) {
      x[k] = Math.max(X_MIN, x[k] - step);
      // Taken while empty, not lost to blindness: the next empty segment does not undo it.
      if (seenAt && seen !== undefined) seenAt[k] = Math.min(seen, x[k]);
    } else if (x[k] > EMPTY_FLOOR) x[k] = Math.max(EMPTY_FLOOR, x[k] - step);
    else x[k] = Math.min(EMPTY_FLOOR, x[k] + step);
  }
  return seenAt;
}

/**
 * What the next segment should cost relative to the one just measured: per knob that moved, the
 * probe's own one-level ratio (cheaper variant ÷ current encode) to the power of the levels
 * moved (its inverse going up). Clipped to [¼, 4]: an estimate, corrected by the next result.
 */
function nextRatios(from: KnobSetting, to: KnobSetting, gradients: readonly KnobTerms[], spaces: KnobSpaces): { bw: number; gpu: number } {
  let bw = 1;
  let gpu = 1;
  for (const t of gradients) {
    const ladder = spaces[t.knob];
    const i = ladder.indexOf(from[t.knob]);
    const j = ladder.indexOf(to[t.knob]);
    if (i < 0 || j < 0 || i === j) continue;
    if (t.bwHq > 0 && t.bwLq > 0) bw *= (t.bwLq / t.bwHq) ** (j - i);
    if (t.gpuHq > 0 && t.gpuLq > 0) gpu *= (t.gpuLq / t.gpuHq) ** (j - i);
  }
  const clip = (r: number) => Math.min(4, Math.max(0.25, r));
  return { bw: clip(bw), gpu: clip(gpu) };
}

/**
 * OneAdapt: one Adam step per probed segment on each knob's continuous state, along
 * −AccGrad + resource gradient; the discretised state is the next segment's setting.
 * In a fleet (ctx.fleet) the resource prices are the fleet's (see fleetWeights); the stream
 * starts and steps as the constrained modes do.
 */
export function oneAdaptPolicy(params: OneAdaptParams = ONEADAPT_DEFAULTS, spec = ''): Policy<OneAdaptState> {
  const constrained = isConstrained(params);
  // λ mode starts every adapting knob at `start` (the paper: the reference); the constrained
  // modes start QP there and the other knobs at their reference (CONSTRAINED_START). A fleet
  // member starts QP and resolution at the watch floor (EMPTY_FLOOR, where an empty scene rests
  // and an arrival is still seen), frame rate and region at their reference: one that joined at
  // the top of its ladder would spend the others' share for its first segments.
  const startOf = (k: KnobName, fleet: boolean) => {
    if (!params.knobs.includes(k)) return 1;
    if (fleet) return EMPTY_DRIFT.includes(k) ? Math.min(EMPTY_FLOOR, Math.max(X_MIN, params.start)) : 1;
    if (constrained && k !== 'qp') return 1;
    return Math.min(1, Math.max(X_MIN, params.start));
  };
  const fleetParams: OneAdaptParams = { ...params, eps: Math.max(params.eps, CONSTRAINED_EPS) };
  const init = (fleet = false): OneAdaptState => ({
    x: Object.fromEntries(KNOB_NAMES.map((k) => [k, startOf(k, fleet)])) as KnobState,
    moments: Object.fromEntries(KNOB_NAMES.map((k) => [k, ZERO_MOMENTS])) as Record<KnobName, AdamMoments>,
    lastGrad: {},
  });
  return {
    name: spec ? `oneadapt:${spec}` : 'oneadapt',
    needsGradients: true,
    probedKnobs: params.knobs,
    probesReference: params.targetF1 !== undefined,
    initial: (ctx) => {
      const state = init(ctx.fleet !== undefined);
      return { state, setting: settingFromState(state.x, ctx.spaces) };
    },
    step: (before, fb, ctx) => {
      const state = params.targetF1 !== undefined && !fb.error ? { ...before, audits: account(before.audits, fb) } : before;
      if (!fb.gradients || fb.gradients.length === 0 || fb.error) return { state, setting: settingFromState(state.x, ctx.spaces) };
      // An empty scene: following the saving alone would bet the first object to appear on the
      // cheapest knobs; drift to a watch floor instead, price and calibration untouched.
      if (emptyScene(fb.gradients)) {
        const x = { ...state.x };
        const busyX = ctx.fleet ? fleetEmptyDrift(x, state.busyX, ctx.fleet, params) : undefined;
        if (!ctx.fleet) for (const k of EMPTY_DRIFT) if (params.knobs.includes(k) && x[k] > EMPTY_FLOOR) x[k] = Math.max(EMPTY_FLOOR, x[k] - params.lr / 2);
        const setting = settingFromState(x, ctx.spaces);
        const r = ctx.fleet ? nextRatios(fb.setting, setting, fb.gradients, ctx.spaces) : undefined;
        return { state: { ...state, x, ...(busyX ? { busyX } : {}) }, setting, ...(r ? { fleet: { nextRatioBw: r.bw, nextRatioGpu: r.gpu } } : {}) };
      }
      const priced = updatePrice(params, state, fb, fb.gradients, ctx.segmentSeconds ?? 1);
      if (ctx.fleet) priced.busyX = Object.fromEntries(EMPTY_DRIFT.map((k) => [k, state.x[k]]));
      const audit = params.targetF1 !== undefined && wantsAudit(priced.audits ?? NO_AUDITS, fb.seq, params);
      if (audit) priced.audits = { ...(priced.audits ?? NO_AUDITS), requested: (priced.audits?.requested ?? 0) + 1, lastSeq: fb.seq + 1 };
      const fleet = ctx.fleet ? fleetWeights(params, priced, ctx.fleet, fb, fb.gradients, ctx) : undefined;
      const weights = fleet ? fleet.weights : weightsOf(params, priced);
      const adam = fleet ? fleetParams : params;
      const next: OneAdaptState = { ...(fleet ? fleet.state : priced), x: { ...state.x }, moments: { ...state.moments }, lastGrad: {} };
      for (const terms of fb.gradients) {
        const knob = terms.knob as KnobName;
        if (!params.knobs.includes(knob)) continue;
        const g = knobGradient(terms, ctx.spaces[knob].length, weights);
        const { delta, moments } = adamStep(state.moments[knob] ?? ZERO_MOMENTS, g, adam);
        next.moments[knob] = moments;
        // In a fleet a step up (dearer) is at most half a step: members that all find room at
        // once would otherwise overshoot the shared budget together before the price answers.
        const d = fleet ? Math.min(delta, params.lr * UP_SHARE) : delta;
        next.x[knob] = Math.min(1, Math.max(X_MIN, (state.x[knob] ?? 1) + d));
        next.lastGrad[knob] = g;
      }
      const setting = settingFromState(next.x, ctx.spaces);
      const report = fleet ? { ...fleet.report, ...((r) => ({ nextRatioBw: r.bw, nextRatioGpu: r.gpu }))(nextRatios(fb.setting, setting, fb.gradients, ctx.spaces)) } : undefined;
      return { state: next, setting, ...(audit ? { audit: true } : {}), ...(report ? { fleet: report } : {}) };
    },
  };
}
