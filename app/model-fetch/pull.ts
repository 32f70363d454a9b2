// `oneadapt models pull`: catalog names → verified files in one models folder, from upstream or
// from a mirror laid out like a models folder. Downloads go through fetch-model.ts.
import path from 'node:path';
import {
  CATALOG_MODELS,
  catalogModel,
  checkOnlyModel,
  CHECK_MODEL_NAMES,
  type CatalogModel,
  UnknownModelError,
} from '../../src/models/catalog.js';
import { fetchModel as defaultFetchModel, type FetchModelOutcome, type FetchModelRequest } from './fetch-model.js';

export type PullEvent =
  | { kind: 'start'; name: string; url: string; finalUrl: string; dest: string; total: number | undefined }
  | { kind: 'progress'; name: string; received: number; total: number | undefined }
  | { kind: 'done'; name: string; outcome: FetchModelOutcome; sha256: string }
  | { kind: 'failed'; name: string; error: string }
  | { kind: 'not-pulled'; name: string; source: string; path?: string; present: boolean };

export interface PullOptions {
  /** Catalog names; none means every catalog model. */
  names: string[];
  destDir: string;
  /** Base URL holding the catalog's relative paths (`<base>/yolox-nano/yolox_nano.onnx`). */
  mirror?: string;
  stallTimeoutMs?: number;
  signal?: AbortSignal;
  onEvent?: (e: PullEvent) => void;
  fetchModel?: (req: FetchModelRequest) => Promise<FetchModelOutcome>;
}

export interface PullSummary {
  ok: string[];
  failed: string[];
}

/** A mirror's base URL, with the trailing slash that makes relative paths land under it. */
export function mirrorBase(base: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(base.endsWith('/') ? base : `${base}/`);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== 'http:' && url?.protocol !== 'https:') throw new UnknownModelError(`bad mirror URL "${base}": expected an http(s) URL`);
  return url;
}

/** The URL of `model` on a mirror: its catalog path under the base. */
export function mirrorUrl(base: string, model: CatalogModel): string {
  return new URL(model.file.split('/').map(encodeURIComponent).join('/'), mirrorBase(base)).href;
}

/** Every name checked before anything is downloaded: a typo fails fast, naming what exists. */
export function pullTargets(names: string[]): (CatalogModel | { checkOnly: string })[] {
  const wanted = names.length > 0 ? [...new Set(names)] : CATALOG_MODELS.map((m) => m.name);
  const unknown = wanted.filter((n) => !catalogModel(n) && !checkOnlyModel(n));
  if (unknown.length > 0) {
    throw new UnknownModelError(`unknown model${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `"${n}"`).join(', ')}: expected one of ${CHECK_MODEL_NAMES.join(', ')}`);
  }
  return wanted.map((n) => catalogModel(n) ?? { checkOnly: n });
}

/** Pulls one model after another; a failure is reported and the rest still pulled. */
export async function pullModels(o: PullOptions): Promise<PullSummary> {
  const targets = pullTargets(o.names);
  if (o.mirror !== undefined) mirrorBase(o.mirror);
  const fetchModel = o.fetchModel ?? defaultFetchModel;
  const emit = o.onEvent ?? (() => undefined);
  const summary: PullSummary = { ok: [], failed: [] };
  for (const model of targets) {
    if ('checkOnly' in model) {
      // Not downloadable here: it comes with an npm package; say where, and whether it is there.
      const only = checkOnlyModel(model.checkOnly);
      emit({ kind: 'not-pulled', name: model.checkOnly, source: only?.source ?? '', path: only?.path, present: only?.present === true });
      (only?.present ? summary.ok : summary.failed).push(model.checkOnly);
      continue;
    }
    if (o.signal?.aborted) {
      summary.failed.push(model.name);
      continue;
    }
    const url = o.mirror ? mirrorUrl(o.mirror, model) : model.source.url;
    const dest = path.join(o.destDir, model.file);
    try {
      const outcome = await fetchModel({
        url,
        dest,
        sha256: model.source.sha256,
        bytes: model.source.bytes,
        stallTimeoutMs: o.stallTimeoutMs,
        signal: o.signal,
        onStart: ({ url: finalUrl, total }) => emit({ kind: 'start', name: model.name, url, finalUrl, dest, total }),
        onProgress: (received, total) => emit({ kind: 'progress', name: model.name, received, total }),
      });
      emit({ kind: 'done', name: model.name, outcome, sha256: model.source.sha256 });
      summary.ok.push(model.name);
    } catch (err) {
      emit({ kind: 'failed', name: model.name, error: err instanceof Error ? err.message : String(err) });
      summary.failed.push(model.name);
    }
  }
  return summary;
}
