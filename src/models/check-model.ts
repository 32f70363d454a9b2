import type { RawFrame } from '../media/types.js';
import type { FitSize, ModelSpec } from './types.js';

/**
 * What a gradient check (`oneadapt model check`, bench/vjp.ts) needs of a model: its file, input
 * size, how a frame becomes its input tensor and which score map the proxy reads. Every catalog
 * ModelSpec is one. So are the check-only models (PP-OCR det, see catalog.ts `CHECK_ONLY_MODELS`),
 * which have no detection decoding and so cannot be served.
 */
export interface CheckModelSpec {
  name: string;
  /** Absolute path of the ONNX file. */
  path: string;
  inputWidth: number;
  inputHeight: number;
  /** The autodiff score-map builder (src/autodiff/objective.ts) for this model. */
  scoreMap: ModelSpec['scoreMap'] | 'ppocr';
  /** ∂(model input)/∂(pixel value on 0..1): converts a step on the pixel scale to model units. */
  pixelScale: number;
  /** Score-map entries above this make the check's mask. */
  scoreThreshold: number;
  fitSize(frameWidth: number, frameHeight: number): FitSize;
  /** Frame (any size; resized if it does not match `fit`) → NCHW float input. */
  toTensor(frame: RawFrame, fit: FitSize): Float32Array;
  /** Only for models with a dynamic input: the same model at another input size. */
  withInputSize?(width: number, height: number): CheckModelSpec;
}
