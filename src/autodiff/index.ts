// Public surface of the autodiff module (pure: no onnxruntime).
export { buildVjpModel, type VjpOptions, SEED_NAME, GRAD_NAME } from './vjp.js';
export { buildFusedModel, MASK_NAME, PROXY_NAME } from './fused.js';
export { scoreMaps, SCORE_MAP_NAMES, type ScoreMapName, type ScoreMap, proxyValue } from './objective.js';
export { saliencyFromGradient, letterboxTransform, resizeTransform, type FrameTransform, type SaliencyMap } from './saliency.js';
export { RULES } from './rules/index.js';
export {
  gradientCheck, scoreMapValues, maskFromScores, medianMs,
  type CheckResult, type CheckedModels, type GradientCheckOptions, type Tensor32,
} from './gradient-check.js';
