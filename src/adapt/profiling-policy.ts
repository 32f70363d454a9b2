import { referenceSetting, sameSetting, type KnobSetting } from '../knobs/space.js';
import type { Policy, PolicyContext, PolicyDecision, ProfileResponse } from './policy.js';
import { applyFromSeq, bestProfiled, profilingDelayS, type ProfilingParams } from './profiling.js';

type Result = ProfileResponse['results'][number];

/** What to profile in round `round`, knowing `known` (undefined: the profile is complete). */
export type ProfilePlanner = (round: number, base: KnobSetting, known: readonly Result[], choose: (rs: readonly Result[]) => Result) => KnobSetting[] | undefined;

interface Round {
  seq: number;
  index: number;
  base: KnobSetting;
  known: Result[];
  refBytes: number;
  refFrames: number;
  /** Frames inferred so far for this profile (the reference is the stream's own inference). */
  frames: number;
}

export interface ProfilingState {
  /** The configuration chosen by the last complete profile. */
  current: KnobSetting;
  /** A choice whose results are still on their way (the camera streams at reference meanwhile). */
  pending?: { setting: KnobSetting; applyFromSeq: number };
  nextProfileSeq: number;
  round?: Round;
  /** Delay of the last complete profile, for reports. */
  lastDelayS?: number;
}

function settingFor(state: ProfilingState, seq: number, ref: KnobSetting): KnobSetting {
  if (seq === state.nextProfileSeq) return ref;
  if (state.pending) return seq >= state.pending.applyFromSeq ? state.pending.setting : ref;
  return state.current;
}

/** Once a pending choice applies, it becomes the current one. */
function settle(state: ProfilingState, nextSeq: number): ProfilingState {
  if (state.pending && nextSeq >= state.pending.applyFromSeq) return { ...state, current: state.pending.setting, pending: undefined };
  return state;
}

/**
 * Profiling baselines (AWStream, Chameleon): every `periodS` the camera sends one segment at
 * reference quality, the server infers it at candidate configurations (real inference, spare
 * GPU), and the best by (1 − F1) + λ·cost applies once the results are back — after
 * ceil(frames profiled / spare frames per s) seconds, during which the camera stays at reference.
 */
export function profilingPolicy(name: string, params: ProfilingParams, planner: ProfilePlanner): Policy<ProfilingState> {
  const choose = (r: Round) => (rs: readonly Result[]) => bestProfiled(rs, r, params.lambda, params.resource);
  const segS = (ctx: PolicyContext) => ctx.segmentSeconds ?? 1;

  const ask = (state: ProfilingState, round: Round, ctx: PolicyContext): PolicyDecision<ProfilingState> => {
    const ref = referenceSetting(ctx.spaces);
    for (let index = round.index; ; index++) {
      const all = [{ setting: ref, bytes: round.refBytes, frames: round.refFrames, f1: 1 }, ...round.known];
      const wanted = planner(index, round.base, all, choose(round));
      if (!wanted) return finish(state, round, all, ctx);
      const fresh = wanted.filter((s, i) => wanted.findIndex((w) => sameSetting(w, s)) === i && !all.some((k) => sameSetting(k.setting, s)));
      if (fresh.length > 0) return { state: { ...state, round: { ...round, index } }, setting: ref, profile: { seq: round.seq, settings: fresh } };
    }
  };

  const finish = (state: ProfilingState, round: Round, all: Result[], ctx: PolicyContext): PolicyDecision<ProfilingState> => {
    const spare = params.spareFramesPerS ?? 2 * ctx.spaces.fps[0];
    const delayS = profilingDelayS(round.frames, spare);
    const from = applyFromSeq(round.seq, delayS, segS(ctx));
    const best = choose(round)(all).setting;
    const periodSegs = Math.max(1, Math.round(params.periodS / segS(ctx)));
    const next: ProfilingState = {
      current: state.current,
      pending: { setting: best, applyFromSeq: from },
      // A new profile starts no earlier than one segment after the last one's choice applied.
      nextProfileSeq: Math.max(round.seq + periodSegs, from + 1),
      lastDelayS: delayS,
    };
    const settled = settle(next, round.seq + 1);
    return { state: settled, setting: settingFor(settled, round.seq + 1, referenceSetting(ctx.spaces)), adaptation: { contentSeq: round.seq, applyFromSeq: from } };
  };

  return {
    name,
    initial: (ctx) => {
      const ref = referenceSetting(ctx.spaces);
      return { state: { current: ref, nextProfileSeq: 0 }, setting: ref };
    },
    step: (state, fb, ctx) => {
      const ref = referenceSetting(ctx.spaces);
      if (fb.seq === state.nextProfileSeq) {
        // A failed segment cannot be profiled: try the next one.
        if (fb.error) return { state: { ...state, nextProfileSeq: fb.seq + 1 }, setting: ref };
        // The profiled segment streams at reference quality: its own inference is the ground truth.
        const round: Round = { seq: fb.seq, index: 0, base: state.current, known: [], refBytes: fb.bytes, refFrames: fb.frames, frames: 0 };
        return ask(state, round, ctx);
      }
      const next = settle(state, fb.seq + 1);
      return { state: next, setting: settingFor(next, fb.seq + 1, ref) };
    },
    profiled: (state, response, ctx) => {
      const prev = state.round;
      if (!prev || prev.seq !== response.seq) return { state, setting: settingFor(state, response.seq + 1, referenceSetting(ctx.spaces)) };
      const round: Round = {
        ...prev,
        refBytes: response.refBytes,
        refFrames: response.refFrames,
        known: [...prev.known, ...response.results],
        frames: prev.frames + response.results.reduce((s, r) => s + r.frames, 0),
        index: prev.index + 1,
      };
      return ask(state, round, ctx);
    },
  };
}
