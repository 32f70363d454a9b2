import { parseSetting, referenceSetting, type KnobSetting } from '../knobs/space.js';
import type { Policy, PolicyContext } from './policy.js';

/** Holds one setting for the whole stream (`fixed:qp=28,resolution=0.67,fps=5`). */
export function fixedPolicy(spec: string): Policy<null> {
  const settingFor = (ctx: PolicyContext): KnobSetting => parseSetting(spec, referenceSetting(ctx.spaces), ctx.sourceWidth);
  return {
    name: `fixed:${spec}`,
    initial: (ctx) => ({ state: null, setting: settingFor(ctx) }),
    step: (_state, _fb, ctx) => ({ state: null, setting: settingFor(ctx) }),
  };
}
