import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { COCO_CLASSES } from './coco.js';
import type { CheckModelSpec } from './check-model.js';
import { fastestDetSpec } from './fastestdet.js';
import { PPOCR_MODELS_PACKAGE, ppocrDetModelPath, ppocrDetSpec } from './ppocr.js';
import type { ModelSpec } from './types.js';
import { ultraFaceSpec } from './ultraface.js';
import { yoloxSpec } from './yolox.js';
import { PermanentError } from '../errors.js';

export class UnknownModelError extends PermanentError {
  override name = 'UnknownModelError';
}

type Builder = (dir: string) => ModelSpec;

const CATALOG: Record<string, { file: string; build: Builder }> = {
  'yolox-nano': {
    file: 'yolox-nano/yolox_nano.onnx',
    build: (dir) => yoloxSpec({ name: 'yolox-nano', path: path.join(dir, 'yolox-nano/yolox_nano.onnx'), size: 416, classNames: [...COCO_CLASSES] }),
  },
  fastestdet: {
    file: 'fastestdet/FastestDet.onnx',
    build: (dir) => fastestDetSpec({ name: 'fastestdet', path: path.join(dir, 'fastestdet/FastestDet.onnx'), size: 352, classNames: [...COCO_CLASSES] }),
  },
  ultraface: {
    file: 'ultraface/version-RFB-320.onnx',
    build: (dir) => ultraFaceSpec({ name: 'ultraface', path: path.join(dir, 'ultraface/version-RFB-320.onnx') }),
  },
  'ultraface-slim': {
    file: 'ultraface/version-slim-320.onnx',
    build: (dir) => ultraFaceSpec({ name: 'ultraface-slim', path: path.join(dir, 'ultraface/version-slim-320.onnx') }),
  },
};

export const MODEL_NAMES = Object.keys(CATALOG);

/** The project root (where package.json lives), from src/ or dist/src/. */
export function projectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

/** Where catalog models live: ONEADAPT_MODELS_DIR, else `../shared/models` beside the project. */
export function defaultModelsDir(): string {
  return path.resolve(projectRoot(), '..', 'shared', 'models');
}

/**
 * Resolves a model by catalog name, or by path to an ONNX file with a family prefix
 * (`yolox:/models/yolox_s.onnx`, `fastestdet:…`, `ultraface:…`; a bare path means yolox).
 */
export function resolveModel(nameOrPath: string, modelsDir: string = defaultModelsDir()): ModelSpec {
  const entry = CATALOG[nameOrPath];
  if (entry) {
    const spec = entry.build(modelsDir);
    if (!existsSync(spec.path)) {
      throw new UnknownModelError(`model file for "${nameOrPath}" not found at ${spec.path}; set ONEADAPT_MODELS_DIR to the folder holding ${entry.file}`);
    }
    return spec;
  }
  const m = /^(yolox|fastestdet|ultraface):(.+)$/.exec(nameOrPath);
  const family = m ? m[1] : 'yolox';
  const file = m ? m[2] : nameOrPath;
  if (!file.endsWith('.onnx')) {
    throw new UnknownModelError(`unknown model "${nameOrPath}": expected one of ${MODEL_NAMES.join(', ')} or a path to an .onnx file (optionally prefixed yolox:|fastestdet:|ultraface:)`);
  }
  const abs = path.resolve(file);
  if (!existsSync(abs)) throw new UnknownModelError(`model file not found: ${abs}`);
  const name = path.basename(abs, '.onnx');
  if (family === 'fastestdet') return fastestDetSpec({ name, path: abs, size: 352, classNames: [...COCO_CLASSES] });
  if (family === 'ultraface') return ultraFaceSpec({ name, path: abs });
  return yoloxSpec({ name, path: abs, size: 416, classNames: [...COCO_CLASSES] });
}

/**
 * Models for the gradient check only (`oneadapt model check`, bench/vjp.ts): no detection
 * decoding, so `resolveModel` (what the product serves) does not know them.
 */
const CHECK_ONLY_MODELS: Record<string, { source: string; build: () => CheckModelSpec | undefined }> = {
  'ppocr-det': {
    source: `npm package ${PPOCR_MODELS_PACKAGE} (npm install)`,
    build: () => {
      const file = ppocrDetModelPath();
      return file ? ppocrDetSpec({ name: 'ppocr-det', path: file }) : undefined;
    },
  },
};

/** Every name `resolveCheckModel` knows: the catalog's, then the check-only models. */
export const CHECK_MODEL_NAMES = [...MODEL_NAMES, ...Object.keys(CHECK_ONLY_MODELS)];

/**
 * A model for the gradient check: a catalog or check-only name (`ppocr-det`), `ppocr:<file.onnx>`,
 * anything `resolveModel` takes, or a bare .onnx path named like a catalog model's file
 * (`…/FastestDet.onnx` is a FastestDet; other bare paths need a family prefix).
 */
export function resolveCheckModel(nameOrPath: string, modelsDir: string = defaultModelsDir()): CheckModelSpec {
  const only = CHECK_ONLY_MODELS[nameOrPath];
  if (only) {
    const spec = only.build();
    if (!spec) throw new UnknownModelError(`model "${nameOrPath}" not found: it comes from the ${only.source}`);
    if (!existsSync(spec.path)) throw new UnknownModelError(`model file for "${nameOrPath}" not found at ${spec.path} (from the ${only.source})`);
    return spec;
  }
  const ocr = /^ppocr:(.+)$/.exec(nameOrPath);
  if (ocr) {
    const abs = path.resolve(ocr[1]);
    if (!existsSync(abs)) throw new UnknownModelError(`model file not found: ${abs}`);
    return ppocrDetSpec({ name: path.basename(abs, '.onnx'), path: abs });
  }
  if (!CATALOG[nameOrPath] && !/^[a-z]+:/.test(nameOrPath)) {
    const base = path.basename(nameOrPath);
    const named = Object.keys(CATALOG).find((k) => path.basename(CATALOG[k].file) === base);
    if (named) return resolveModel(`${CATALOG[named].build(modelsDir).family}:${nameOrPath}`, modelsDir);
    if (base === path.basename(ppocrDetModelPath() ?? '')) return resolveCheckModel(`ppocr:${nameOrPath}`, modelsDir);
    throw new UnknownModelError(`cannot tell which model ${nameOrPath} is: give a catalog name (${CHECK_MODEL_NAMES.join(', ')}) or prefix the path with its family (yolox:|fastestdet:|ultraface:|ppocr:)`);
  }
  return resolveModel(nameOrPath, modelsDir);
}
