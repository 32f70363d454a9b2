import type { Policy, PolicyContext, PolicyDecision, ProfileResponse } from '../../src/adapt/policy.js';
import type { ProfilingState } from '../../src/adapt/profiling-policy.js';
import { referenceSetting, sameSetting, type KnobSetting } from '../../src/knobs/space.js';

type Result = ProfileResponse['results'][number];

/** A profiling baseline's state, plus what its current profile measured so far. */
export interface ShareState {
  inner: ProfilingState;
  profile?: { seq: number; refBytes: number; results: Result[] };
}

/** The segment after `seq` as the profiling policy would stream it (its own rule, src/adapt/profiling-policy.ts). */
function nextSetting(st: ProfilingState, seq: number, ref: KnobSetting): KnobSetting {
  const next = seq + 1;
  if (next === st.nextProfileSeq) return ref;
  if (st.pending) return next >= st.pending.applyFromSeq ? st.pending.setting : ref;
  return st.current;
}

/**
 * AWStream or Chameleon holding a camera's share of a fleet's budget, as AWStream itself works
 * (the most accurate profiled configuration the available bandwidth allows): the profile runs as
 * the policy runs it, and once it is complete the choice is the most accurate configuration it
 * measured within `shareKbps` (the cheapest measured when none fits). The profiled segment and
 * the segments streamed while the profile is inferred still go at reference quality, as in the
 * policy, and count against the camera.
 */
export function withinShare(inner: Policy<ProfilingState>, shareKbps: number): Policy<ShareState> {
  const segS = (ctx: PolicyContext) => ctx.segmentSeconds ?? 1;
  const wrap = (d: PolicyDecision<ProfilingState>, profile: ShareState['profile']): PolicyDecision<ShareState> => ({ ...d, state: { inner: d.state, ...(profile ? { profile } : {}) } });
  return {
    name: `${inner.name} within ${shareKbps.toFixed(1)} kbit/s`,
    initial: (ctx) => wrap(inner.initial(ctx), undefined),
    step: (state, fb, ctx) => {
      const d = inner.step(state.inner, fb, ctx);
      // A new profile starts on a segment streamed at reference quality: its bytes are the reference's.
      const profile = d.profile && d.profile.seq === fb.seq ? { seq: fb.seq, refBytes: fb.bytes, results: [] } : state.profile;
      return wrap(d, profile);
    },
    profiled: (state, response, ctx) => {
      const d = inner.profiled!(state.inner, response, ctx);
      const profile = state.profile && state.profile.seq === response.seq ? { seq: response.seq, refBytes: response.refBytes, results: [...state.profile.results, ...response.results] } : state.profile;
      if (!d.adaptation || !profile) return wrap(d, profile);
      const ref = referenceSetting(ctx.spaces);
      const kbps = (bytes: number) => (bytes * 8) / 1000 / segS(ctx);
      const all: Result[] = [{ setting: ref, bytes: profile.refBytes, frames: response.refFrames, f1: 1 }, ...profile.results];
      const within = all.filter((r) => kbps(r.bytes) <= shareKbps);
      const pick = within.length > 0 ? within.reduce((b, r) => (r.f1 > b.f1 || (r.f1 === b.f1 && r.bytes < b.bytes) ? r : b)) : all.reduce((b, r) => (r.bytes < b.bytes ? r : b));
      const st = d.state;
      const patched: ProfilingState = st.pending ? { ...st, pending: { ...st.pending, setting: pick.setting } } : { ...st, current: pick.setting };
      const setting = nextSetting(patched, response.seq, ref);
      return { ...d, state: { inner: patched, profile }, setting: sameSetting(setting, d.setting) ? d.setting : setting };
    },
  };
}
