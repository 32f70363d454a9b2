import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
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

/** Where a catalog model's file comes from, and what it must hash to once downloaded. */
export interface ModelSource {
  /** Raw download URL, pinned to a commit so the hash below stays valid. */
  url: string;
  sha256: string;
  bytes: number;
  /** SPDX licence of the file. */
  license: string;
}

/** A catalog model: its name, its file under a models folder (also its path on a mirror), its source. */
export interface CatalogModel {
  name: string;
  file: string;
  source: ModelSource;
}

const CATALOG: Record<string, { file: string; source: ModelSource; build: Builder }> = {
  // YOLOX-Nano (Megvii YOLOX, Apache-2.0), ONNX export from Kazuhito00/YOLOX-ONNX-TFLite-Sample
  // (Apache-2.0), model/yolox_nano.onnx, unchanged on main since this commit.
  'yolox-nano': {
    file: 'yolox-nano/yolox_nano.onnx',
    source: {
      url: 'https://github.com/Kazuhito00/YOLOX-ONNX-TFLite-Sample/raw/0f785c070ce8da070aeaeef46c0da7904ff7012e/model/yolox_nano.onnx',
      sha256: '695e750a5d5754bb5a8d5325643b59282191a7e7a564e435a415fd3c578eab14',
      bytes: 3_660_092,
      license: 'Apache-2.0',
    },
    build: (dir) => yoloxSpec({ name: 'yolox-nano', path: path.join(dir, 'yolox-nano/yolox_nano.onnx'), size: 416, classNames: [...COCO_CLASSES] }),
  },
  // FastestDet from dog-qiuqiu/FastestDet (BSD-3-Clause), example/onnx-runtime/FastestDet.onnx,
  // unchanged on main since this commit.
  fastestdet: {
    file: 'fastestdet/FastestDet.onnx',
    source: {
      url: 'https://github.com/dog-qiuqiu/FastestDet/raw/97df0a850c4949dcd7d9abf9c539679eee6b6a90/example/onnx-runtime/FastestDet.onnx',
      sha256: '31cb14c017fce347cb4c846ec62fdf00d76bb3beecdf4be21e7116ac67feb880',
      bytes: 998_169,
      license: 'BSD-3-Clause',
    },
    build: (dir) => fastestDetSpec({ name: 'fastestdet', path: path.join(dir, 'fastestdet/FastestDet.onnx'), size: 352, classNames: [...COCO_CLASSES] }),
  },
  // UltraFace RFB-320 from Linzaer/Ultra-Light-Fast-Generic-Face-Detector-1MB (MIT),
  // models/onnx/version-RFB-320.onnx, unchanged on master since this commit.
  ultraface: {
    file: 'ultraface/version-RFB-320.onnx',
    source: {
      url: 'https://github.com/Linzaer/Ultra-Light-Fast-Generic-Face-Detector-1MB/raw/0f9ca4a9fc80170fd505168fd1132b837141f7df/models/onnx/version-RFB-320.onnx',
      sha256: '34cd7e60aeff28744c657de7a3dc64e872d506741de66987f3426f2b79f88017',
      bytes: 1_270_727,
      license: 'MIT',
    },
    build: (dir) => ultraFaceSpec({ name: 'ultraface', path: path.join(dir, 'ultraface/version-RFB-320.onnx') }),
  },
  // UltraFace slim-320, same repository, licence and commit: models/onnx/version-slim-320.onnx.
  'ultraface-slim': {
    file: 'ultraface/version-slim-320.onnx',
    source: {
      url: 'https://github.com/Linzaer/Ultra-Light-Fast-Generic-Face-Detector-1MB/raw/0f9ca4a9fc80170fd505168fd1132b837141f7df/models/onnx/version-slim-320.onnx',
      sha256: 'e9adbd0f920ddcce9368434c4d34d72520dc0c19b526fd44b4ef49bde2c3b1a8',
      bytes: 1_195_330,
      license: 'MIT',
    },
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

/** `../shared/models` beside the project: checked before the cache when ONEADAPT_MODELS_DIR is unset. */
export function defaultModelsDir(): string {
  return path.resolve(projectRoot(), '..', 'shared', 'models');
}

/** Where `oneadapt models pull` puts models by default: `$XDG_CACHE_HOME/oneadapt/models`, else `~/.cache/oneadapt/models`. */
export function modelCacheDir(env: Readonly<Record<string, string | undefined>> = process.env, home: string = homedir()): string {
  // The XDG spec says to ignore a relative XDG_CACHE_HOME.
  const xdg = env.XDG_CACHE_HOME;
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(home, '.cache'), 'oneadapt', 'models');
}

/** The folders a catalog model may be read from. */
export interface ModelDirs {
  /** ONEADAPT_MODELS_DIR: when set, the only folder looked at. */
  modelsDir?: string;
  sharedDir: string;
  cacheDir: string;
}

export function modelDirs(modelsDir?: string): ModelDirs {
  return { modelsDir: modelsDir || undefined, sharedDir: defaultModelsDir(), cacheDir: modelCacheDir() };
}

export type ModelDirKind = 'ONEADAPT_MODELS_DIR' | 'shared' | 'cache';

/** Where a catalog model resolves: the first folder holding its file, else where a pull would put it. */
export interface ModelLocation {
  /** The models folder, which holds the file at the catalog's relative path. */
  dir: string;
  path: string;
  kind: ModelDirKind;
  present: boolean;
}

/** The catalog model `name`, or undefined when the catalog has no such name. */
export function catalogModel(name: string): CatalogModel | undefined {
  const entry = Object.hasOwn(CATALOG, name) ? CATALOG[name] : undefined;
  return entry && { name, file: entry.file, source: entry.source };
}

export const CATALOG_MODELS: readonly CatalogModel[] = MODEL_NAMES.map((n) => catalogModel(n) as CatalogModel);

/** ONEADAPT_MODELS_DIR when set; else ../shared/models when it holds the file; else the cache. */
export function locateCatalogModel(name: string, dirs: ModelDirs): ModelLocation {
  const entry = catalogModel(name);
  if (!entry) throw new UnknownModelError(`unknown model "${name}": expected one of ${MODEL_NAMES.join(', ')}`);
  if (dirs.modelsDir) {
    const p = path.join(dirs.modelsDir, entry.file);
    return { dir: dirs.modelsDir, path: p, kind: 'ONEADAPT_MODELS_DIR', present: existsSync(p) };
  }
  const shared = path.join(dirs.sharedDir, entry.file);
  if (existsSync(shared)) return { dir: dirs.sharedDir, path: shared, kind: 'shared', present: true };
  const cached = path.join(dirs.cacheDir, entry.file);
  return { dir: dirs.cacheDir, path: cached, kind: 'cache', present: existsSync(cached) };
}

/**
 * Resolves a model by catalog name, or by path to an ONNX file with a family prefix
 * (`yolox:/models/yolox_s.onnx`, `fastestdet:…`, `ultraface:…`; a bare path means yolox).
 */
export function resolveModel(nameOrPath: string, modelsDir?: string): ModelSpec {
  const entry = Object.hasOwn(CATALOG, nameOrPath) ? CATALOG[nameOrPath] : undefined;
  if (entry) {
    const dirs = modelDirs(modelsDir);
    const at = locateCatalogModel(nameOrPath, dirs);
    if (!at.present) {
      const pull = `\`oneadapt models pull ${nameOrPath}\``;
      throw new UnknownModelError(
        at.kind === 'ONEADAPT_MODELS_DIR'
          ? `model file for "${nameOrPath}" not found at ${at.path}; set ONEADAPT_MODELS_DIR to the folder holding ${entry.file}, or run ${pull} to download it there`
          : `model file for "${nameOrPath}" not found at ${at.path} (nor under ${dirs.sharedDir}); run ${pull} to download it, or set ONEADAPT_MODELS_DIR to the folder holding ${entry.file}`,
      );
    }
    return entry.build(at.dir);
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

/** A check-only model (`ppocr-det`): where it comes from, and its file when installed. */
export function checkOnlyModel(name: string): { name: string; source: string; path?: string; present: boolean } | undefined {
  const only = Object.hasOwn(CHECK_ONLY_MODELS, name) ? CHECK_ONLY_MODELS[name] : undefined;
  if (!only) return undefined;
  const file = only.build()?.path;
  return { name, source: only.source, path: file, present: file !== undefined && existsSync(file) };
}

export const CHECK_ONLY_MODEL_NAMES = Object.keys(CHECK_ONLY_MODELS);

/** Every name `resolveCheckModel` knows: the catalog's, then the check-only models. */
export const CHECK_MODEL_NAMES = [...MODEL_NAMES, ...CHECK_ONLY_MODEL_NAMES];

/**
 * A model for the gradient check: a catalog or check-only name (`ppocr-det`), `ppocr:<file.onnx>`,
 * anything `resolveModel` takes, or a bare .onnx path named like a catalog model's file
 * (`…/FastestDet.onnx` is a FastestDet; other bare paths need a family prefix).
 */
export function resolveCheckModel(nameOrPath: string, modelsDir?: string): CheckModelSpec {
  const only = Object.hasOwn(CHECK_ONLY_MODELS, nameOrPath) ? CHECK_ONLY_MODELS[nameOrPath] : undefined;
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
  if (!Object.hasOwn(CATALOG, nameOrPath) && !/^[a-z]+:/.test(nameOrPath)) {
    const base = path.basename(nameOrPath);
    const named = Object.keys(CATALOG).find((k) => path.basename(CATALOG[k].file) === base);
    if (named) return resolveModel(`${CATALOG[named].build('.').family}:${nameOrPath}`, modelsDir);
    if (base === path.basename(ppocrDetModelPath() ?? '')) return resolveCheckModel(`ppocr:${nameOrPath}`, modelsDir);
    throw new UnknownModelError(`cannot tell which model ${nameOrPath} is: give a catalog name (${CHECK_MODEL_NAMES.join(', ')}) or prefix the path with its family (yolox:|fastestdet:|ultraface:|ppocr:)`);
  }
  return resolveModel(nameOrPath, modelsDir);
}
