// `models pull` / `models list`: get the catalog's ONNX files, and show where each resolves.
import type { Command } from 'commander';
import { loadConfig } from '../../src/config/config.js';
import { CATALOG_MODELS, CHECK_ONLY_MODEL_NAMES, checkOnlyModel, locateCatalogModel, modelCacheDir, modelDirs, MODEL_NAMES } from '../../src/models/catalog.js';
import { DEFAULT_STALL_TIMEOUT_MS, sha256File } from '../model-fetch/fetch-model.js';
import { type PullEvent, pullModels } from '../model-fetch/pull.js';
import { abortOnSignals } from '../signals.js';

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

/** Progress on stderr: a rewritten line on a terminal, else a line per quarter of each file. */
function pullReporter(out: NodeJS.WriteStream = process.stderr): (e: PullEvent) => void {
  const tty = out.isTTY === true;
  let lastQuarter = 0;
  let open = false;
  const line = (s: string) => {
    if (open) out.write('\n');
    open = false;
    out.write(`${s}\n`);
  };
  return (e) => {
    switch (e.kind) {
      case 'start':
        lastQuarter = 0;
        line(`${e.name}: downloading ${e.url}${e.finalUrl !== e.url ? ` (redirected to ${e.finalUrl})` : ''}${e.total ? ` (${mb(e.total)})` : ''} → ${e.dest}`);
        break;
      case 'progress': {
        const pct = e.total ? Math.floor((100 * e.received) / e.total) : undefined;
        const text = `${e.name}: ${pct === undefined ? mb(e.received) : `${pct}% (${mb(e.received)} of ${mb(e.total ?? 0)})`}`;
        if (tty) {
          out.write(`\r${text}`);
          open = true;
        } else if (pct !== undefined && Math.floor(pct / 25) > lastQuarter && pct < 100) {
          lastQuarter = Math.floor(pct / 25);
          line(text);
        }
        break;
      }
      case 'done': {
        const o = e.outcome;
        if (o.status === 'present') line(`${e.name}: already present at ${o.path} (sha256 verified), skipped`);
        else line(`${e.name}: ${o.status === 'replaced' ? 'replaced the differing file' : 'downloaded'}, sha256 ${e.sha256} verified (${o.bytes} bytes) → ${o.path}`);
        break;
      }
      case 'failed':
        line(`${e.name}: FAILED: ${e.error}`);
        break;
      case 'not-pulled':
        line(`${e.name}: not pulled: it ships in the ${e.source}; ${e.present ? `present at ${e.path}` : 'not installed'}`);
        break;
    }
  };
}

function timeoutOption(v: string): number {
  const s = Number(v);
  if (!(s > 0 && s <= 3600)) throw new Error(`bad --timeout "${v}": expected seconds, more than 0 and at most 3600`);
  return s;
}

export function registerModelsCommands(program: Command): void {
  const models = program.command('models').description('the model catalog: download its ONNX files, list where each resolves');
  models.command('pull [names...]')
    .description(`download catalog models (${MODEL_NAMES.join(', ')}; default: all) with sha256 verification into ONEADAPT_MODELS_DIR, else ${modelCacheDir()}`)
    .option('--from <base-url>', 'mirror holding the catalog paths (<base-url>/yolox-nano/yolox_nano.onnx …) (default: ONEADAPT_MODELS_MIRROR, else upstream)')
    .option('--timeout <s>', `give up on a connection that sends nothing for this long (default ${DEFAULT_STALL_TIMEOUT_MS / 1000})`, timeoutOption)
    .action(async (names: string[], o: { from?: string; timeout?: number }) => {
      const destDir = loadConfig().modelsDir || modelCacheDir();
      const abort = new AbortController();
      abortOnSignals(abort);
      const summary = await pullModels({
        names,
        destDir,
        mirror: o.from ?? (process.env.ONEADAPT_MODELS_MIRROR || undefined),
        stallTimeoutMs: o.timeout === undefined ? undefined : o.timeout * 1000,
        signal: abort.signal,
        onEvent: pullReporter(),
      });
      const all = summary.ok.length + summary.failed.length;
      if (summary.failed.length > 0) throw new Error(`models pull: ${summary.failed.length} of ${all} failed (${summary.failed.join(', ')})`);
      process.stderr.write(`models pull: ${all} of ${all} ready in ${destDir}\n`);
    });
  models.command('list')
    .description('each catalog model: where it resolves (ONEADAPT_MODELS_DIR, ../shared/models, the cache) and whether its file is there with the catalog\'s sha256')
    .option('--json', 'print one JSON array')
    .action(async (o: { json?: boolean }) => {
      const dirs = modelDirs(loadConfig().modelsDir);
      const rows: { name: string; status: 'ok' | 'missing' | 'differs'; where: string; path: string; license?: string }[] = [];
      for (const m of CATALOG_MODELS) {
        const at = locateCatalogModel(m.name, dirs);
        const file = at.present ? await sha256File(at.path) : undefined;
        const status = !file ? 'missing' : file.sha256 === m.source.sha256 ? 'ok' : 'differs';
        rows.push({ name: m.name, status, where: at.kind, path: at.path, license: m.source.license });
      }
      for (const name of CHECK_ONLY_MODEL_NAMES) {
        const only = checkOnlyModel(name);
        if (only) rows.push({ name, status: only.present ? 'ok' : 'missing', where: only.source, path: only.path ?? '' });
      }
      if (o.json) {
        process.stdout.write(`${JSON.stringify(rows)}\n`);
        return;
      }
      const w = (k: 'name' | 'status' | 'where') => Math.max(k.length, ...rows.map((r) => r[k].length));
      const fmt = (a: string, b: string, c: string, d: string) => `${a.padEnd(w('name'))}  ${b.padEnd(w('status'))}  ${c.padEnd(w('where'))}  ${d}\n`;
      process.stdout.write(fmt('name', 'status', 'where', 'path'));
      for (const r of rows) process.stdout.write(fmt(r.name, r.status, r.where, r.path));
      if (rows.some((r) => r.status === 'missing' && MODEL_NAMES.includes(r.name))) process.stdout.write('missing catalog models: `oneadapt models pull <name>`\n');
      if (rows.some((r) => r.status === 'differs')) process.stdout.write('differs: the file is not the catalog\'s (sha256); it is still used\n');
    });
}
