// Registry of reverse-mode rules by op type. To add an op: write a Rule and list it here.
import { convRules } from './conv.js';
import { elementwiseRules } from './elementwise.js';
import { linearRules } from './linear.js';
import { poolRules } from './pool.js';
import { resizeRules } from './resize.js';
import { shapeRules } from './shape-ops.js';
import type { Rule } from './types.js';

export const RULES: Record<string, Rule> = {
  ...elementwiseRules, ...convRules, ...linearRules, ...poolRules, ...resizeRules, ...shapeRules,
};
export type { Rule, RuleCtx } from './types.js';
