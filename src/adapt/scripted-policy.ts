import { parseSetting, referenceSetting, type KnobSetting } from '../knobs/space.js';
import type { Policy } from './policy.js';
import { PolicyError } from './policy-error.js';

interface ScriptState {
  setting: KnobSetting;
}

/**
 * Changes knobs at given points: `script:3@qp=28;8@qp=36,resolution=0.5` sets qp 28 once
 * the result of segment 3 is in, then qp 36 at half resolution after segment 8. For
 * drills and tests of the update path; knobs not named keep their value.
 */
export function scriptedPolicy(spec: string): Policy<ScriptState> {
  const steps = spec.split(';').map((part) => {
    const m = /^(\d+)@(.+)$/.exec(part.trim());
    if (!m) throw new PolicyError(`bad script step "${part}": expected <seq>@<knob>=<value>[,…]`);
    return { afterSeq: Number(m[1]), knobs: m[2] };
  });
  return {
    name: `script:${spec}`,
    initial: (ctx) => ({ state: { setting: referenceSetting(ctx.spaces) }, setting: referenceSetting(ctx.spaces) }),
    step: (state, fb, ctx) => {
      let setting = state.setting;
      for (const s of steps) if (s.afterSeq === fb.seq) setting = parseSetting(s.knobs, setting, ctx.sourceWidth);
      return { state: { setting }, setting };
    },
  };
}
