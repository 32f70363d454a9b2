import type { RawFrame } from '../media/types.js';

/** Box corners in the ORIGINAL frame's pixel coordinates. */
export type Box = [x1: number, y1: number, x2: number, y2: number];

export interface Detection {
  cls: number;
  score: number;
  box: Box;
  /** Flat index of this detection's score in the model's score map (builds the gradient mask). */
  index: number;
}

/** How a frame maps into the model input: model pixel = frame pixel · scale + pad. */
export interface InputTransform {
  scaleX: number;
  scaleY: number;
  padX: number;
  padY: number;
}

/** The size a frame should be scaled to (by ffmpeg, ideally) before `toTensor`. */
export interface FitSize {
  width: number;
  height: number;
  transform: InputTransform;
}

export type ModelFamily = 'yolox' | 'fastestdet' | 'ultraface';

export interface ModelSpec {
  name: string;
  family: ModelFamily;
  /** Absolute path of the ONNX file. */
  path: string;
  inputName: string;
  inputWidth: number;
  inputHeight: number;
  /** Outputs `decode` needs, in the order the session should fetch them. */
  outputNames: string[];
  /** The output the accuracy proxy's score map is computed from. */
  scoreOutput: string;
  /** Number of elements in the score map (the gradient mask's length). */
  scoreMapSize: number;
  /** Shape of the score map, as the fused gradient model's `mask` input. */
  scoreMapDims: number[];
  /** The autodiff score-map builder for this family. */
  scoreMap: 'yolox' | 'fastestdet' | 'ultraface';
  classNames: string[];
  /** ∂(model input)/∂(pixel value on 0..1): turns DNNGrad into a per-pixel saliency. */
  pixelScale: number;
  /** Detections below this score are dropped (the proxy counts only what is kept). */
  scoreThreshold: number;
  /**
   * Score above which an object counts as detected: accuracy (F1) compares only these, as the
   * method's authors measure it; the proxy's sigmoid is centred on it (models/proxy).
   */
  decisionThreshold: number;
  defaultClassesOfInterest: number[];
  fitSize(frameWidth: number, frameHeight: number): FitSize;
  /** Frame (any size; resized if it does not match `fit`) → NCHW float input. */
  toTensor(frame: RawFrame, fit: FitSize): Float32Array;
  decode(outputs: Record<string, Float32Array>, fit: FitSize, frameWidth: number, frameHeight: number): Detection[];
  /** ∂A/∂(score output) for the proxy over the given detections, for the plain VJP model. */
  proxySeed(outputs: Record<string, Float32Array>, detections: Detection[]): Float32Array;
}
