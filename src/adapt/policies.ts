import { awstreamPolicy } from './awstream-policy.js';
import { chameleonPolicy } from './chameleon-policy.js';
import { fixedPolicy } from './fixed-policy.js';
import { oneAdaptPolicy, parseOneAdaptParams } from './oneadapt-policy.js';
import type { Policy } from './policy.js';
import { PolicyError } from './policy-error.js';
import { scriptedPolicy } from './scripted-policy.js';

export const POLICY_FORMS = ['oneadapt[:<param>=<v>,…]', 'fixed:<knob>=<level>,…', 'script:<seq>@<knobs>;…', 'awstream[:<param>=<v>,…]', 'chameleon[:<param>=<v>,…]'];

/** Resolves a policy spec string (the form users write on the command line). */
export function policyFromSpec(spec: string): Policy {
  if (spec === 'oneadapt') return oneAdaptPolicy() as Policy;
  if (spec.startsWith('oneadapt:')) return oneAdaptPolicy(parseOneAdaptParams(spec.slice('oneadapt:'.length)), spec.slice('oneadapt:'.length)) as Policy;
  if (spec === 'reference' || spec === 'fixed') return fixedPolicy('') as Policy;
  if (spec.startsWith('fixed:')) return fixedPolicy(spec.slice('fixed:'.length)) as Policy;
  // Profiling policies need a driver that answers their profile requests (`oneadapt bench`).
  if (spec === 'awstream' || spec.startsWith('awstream:')) return awstreamPolicy(spec.slice('awstream:'.length)) as Policy;
  if (spec === 'chameleon' || spec.startsWith('chameleon:')) return chameleonPolicy(spec.slice('chameleon:'.length)) as Policy;
  if (spec.startsWith('script:')) return scriptedPolicy(spec.slice('script:'.length)) as Policy;
  throw new PolicyError(`unknown policy "${spec}": expected one of ${POLICY_FORMS.join(', ')}`);
}
