import { PolicyError } from '../../src/adapt/policy-error.js';
import { ONEADAPT_DEFAULTS } from '../../src/adapt/oneadapt-policy.js';
import { policyFromSpec } from '../../src/adapt/policies.js';

export type AdaptiveFamily = 'oneadapt' | 'awstream' | 'chameleon';
export type PolicyFamily = AdaptiveFamily | 'fixed';
export type Resource = 'bw' | 'gpu';
export const ADAPTIVE: readonly AdaptiveFamily[] = ['oneadapt', 'awstream', 'chameleon'];

/**
 * Default λ sweeps. The scales differ: AWStream and Chameleon price cost/cost_ref against
 * (1 − F1) directly; OneAdapt prices it against w_rec × the saliency-weighted reconstruction
 * term, so its λ follows its own tuned default (¼×, 1×, 4× ONEADAPT_DEFAULTS.lambdaBw).
 */
export const DEFAULT_LAMBDAS: Record<AdaptiveFamily, number[]> = {
  oneadapt: [0.25, 1, 4].map((f) => f * ONEADAPT_DEFAULTS.lambdaBw),
  awstream: [0.05, 0.2, 0.8],
  chameleon: [0.05, 0.2, 0.8],
};

/** One policy run of the bench: a spec string the policy registry resolves. */
export interface RunSpec {
  spec: string;
  family: PolicyFamily;
  lambda: number | null;
  resource: Resource | null;
}

/** `fixed; awstream oneadapt:lr=0.3` → items; `;` or whitespace separate (specs hold commas). */
export function parsePolicyList(text: string): string[] {
  return text.split(/[;\s]+/).map((s) => s.trim()).filter(Boolean);
}

/** `0.1,0.2` (every adaptive policy) or `oneadapt=1e-4,1e-3;awstream=0.1,0.4`. */
export function parseLambdas(text: string): Partial<Record<AdaptiveFamily, number[]>> {
  const nums = (s: string, what: string) => {
    const vs = s.split(',').filter(Boolean).map(Number);
    if (vs.length === 0 || vs.some((v) => !Number.isFinite(v) || v < 0)) throw new PolicyError(`bad --lambdas ${what} "${s}": expected a comma list of non-negative numbers`);
    return vs;
  };
  if (!text.includes('=')) return Object.fromEntries(ADAPTIVE.map((f) => [f, nums(text, 'list')]));
  const out: Partial<Record<AdaptiveFamily, number[]>> = {};
  for (const part of text.split(';').map((s) => s.trim()).filter(Boolean)) {
    const [name, list = ''] = part.split('=');
    if (!(ADAPTIVE as readonly string[]).includes(name)) throw new PolicyError(`bad --lambdas "${part}": expected <${ADAPTIVE.join('|')}>=<λ>,…`);
    out[name as AdaptiveFamily] = nums(list, `for ${name}`);
  }
  return out;
}

const join = (...parts: string[]) => parts.filter(Boolean).join(',');

/** The spec of one adaptive run: its λ prices the chosen resource, the other is free. */
export function adaptiveSpec(family: AdaptiveFamily, params: string, lambda: number, resource: Resource): string {
  if (family === 'oneadapt') return `oneadapt:${join(params, resource === 'bw' ? `lambda=${lambda},gpu=0` : `lambda=0,gpu=${lambda}`)}`;
  return `${family}:${join(params, `lambda=${lambda}`, `resource=${resource}`)}`;
}

/**
 * Expands `--policies` × λ × resources into runs. `fixed` alone is the whole grid (always
 * measured: it draws the frontier and the oracles; listing it puts its frontier in the table);
 * a policy whose parameters already fix λ runs once.
 */
export function expandRuns(policies: string[], lambdas: Partial<Record<AdaptiveFamily, number[]>>, resources: Resource[]): { runs: RunSpec[]; showGrid: boolean } {
  const runs: RunSpec[] = [];
  let showGrid = false;
  for (const item of policies) {
    const [head, ...rest] = item.split(':');
    const params = rest.join(':');
    if (item === 'fixed' || item === 'fixed-grid') {
      showGrid = true;
      continue;
    }
    if (head === 'fixed') {
      policyFromSpec(item);
      runs.push({ spec: item, family: 'fixed', lambda: null, resource: null });
      continue;
    }
    if (!(ADAPTIVE as readonly string[]).includes(head)) throw new PolicyError(`unknown bench policy "${item}": expected fixed, fixed:<knob>=<level>,…, ${ADAPTIVE.join(', ')} (each optionally :<param>=<v>,…)`);
    const family = head as AdaptiveFamily;
    // A target or a budget makes λ the policy's own state: one run, on the resource it names.
    if (family === 'oneadapt' && /(^|,)(target-f1|budget-kbps)=/.test(params)) {
      policyFromSpec(item);
      runs.push({ spec: item, family, lambda: null, resource: /(^|,)resource=gpu/.test(params) ? 'gpu' : 'bw' });
      continue;
    }
    if (/(^|,)(lambda|gpu|bw)=/.test(params)) {
      policyFromSpec(item);
      // The last occurrence wins, as in the policies' own parsers.
      const value = (key: string) => [...params.matchAll(/(?:^|,)(\w+)=([^,]+)/g)].reverse().find((m) => m[1] === key)?.[2];
      const gpuPriced = family === 'oneadapt' ? Number(value('gpu') ?? 0) > 0 : value('resource') === 'gpu';
      const lambda = family === 'oneadapt' && gpuPriced ? value('gpu') : (value('lambda') ?? value('bw'));
      runs.push({ spec: item, family, lambda: lambda === undefined ? null : Number(lambda), resource: gpuPriced ? 'gpu' : 'bw' });
      continue;
    }
    for (const resource of resources) {
      for (const lambda of lambdas[family] ?? DEFAULT_LAMBDAS[family]) {
        const spec = adaptiveSpec(family, params, lambda, resource);
        policyFromSpec(spec);
        runs.push({ spec, family, lambda, resource });
      }
    }
  }
  return { runs, showGrid };
}
