// Forward vs VJP vs fused VJP timings per model (2 intra-op threads unless ONEADAPT_INTRA_OP_THREADS),
// plus peak RSS, on the model check's default frame (app/model-check: catalog models, media port,
// session factory). `--profile <model> [topN]`: onnxruntime's per-node kernel times of that model's fused model instead
// (forward / backward / proxy split, time per op type, the top nodes; backward nodes are named vjp/…).
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildCheckModels, checkMedia, checkSessionSettings, fullMask, openCheckSessions, resolveCheckTarget } from '../app/model-check/check.js';
import { defaultCheckFrame, readModelInput } from '../app/model-check/frame.js';
import { openSession, runSession } from '../app/model-check/session.js';
import { MASK_NAME } from '../src/autodiff/fused.js';
import { loadConfig } from '../src/config/config.js';
import type { CheckModelSpec } from '../src/models/check-model.js';

/** The models of the README's table (catalog names; ppocr-det from npm). */
const MODELS = ['yolox-nano', 'fastestdet', 'ultraface', 'ppocr-det'];
const config = loadConfig();
const media = checkMedia(config);
const settings = checkSessionSettings(config);
const frame = defaultCheckFrame();
const runs = Number(process.env.BENCH_RUNS ?? 20);
let peakRss = process.memoryUsage().rss;
const sample = (): void => { peakRss = Math.max(peakRss, process.memoryUsage().rss); };
const rows: string[] = [];

async function profile(name: string, top: number): Promise<void> {
  const spec = resolveCheckTarget(name, { modelsDir: config.modelsDir });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vjp-prof-'));
  const { original, fused, yName } = await buildCheckModels(spec);
  const { x } = await readModelInput(media, spec, frame.file, frame.seekS);
  // The forward once, for the score map's shape: the mask is all ones, as in the timings.
  const { session: fwd } = await openSession(original, settings);
  const mask = fullMask(spec, (await runSession(fwd, { [fwd.inputNames[0]]: x }))[yName]);
  await fwd.release();
  const { session: s } = await openSession(fused, settings, { profileFilePrefix: path.join(dir, 'p') });
  const inName = s.inputNames.find((n) => n !== MASK_NAME) as string;
  for (let i = 0; i < runs; i++) await runSession(s, { [inName]: x, [MASK_NAME]: mask });
  s.endProfiling();
  const events = JSON.parse(readFileSync(path.join(dir, readdirSync(dir)[0]), 'utf8')) as { cat: string; name: string; dur: number; args: { op_name?: string } }[];
  rmSync(dir, { recursive: true, force: true });
  const nodes = new Map<string, { op: string; ms: number }>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const k = e.name.slice(0, -'_kernel_time'.length);
    const r = nodes.get(k) ?? { op: e.args.op_name ?? '', ms: 0 };
    r.ms += e.dur / 1000 / runs;
    nodes.set(k, r);
  }
  const sums = new Map<string, number>();
  const add = (k: string, v: number): void => { sums.set(k, (sums.get(k) ?? 0) + v); };
  for (const [k, v] of nodes) {
    const side = k.startsWith('vjp/') ? 'backward' : k.startsWith('proxy/') ? 'proxy' : 'forward';
    add(side, v.ms); add(`${side}:${v.op}`, v.ms);
  }
  const fmt = (e: [string, number][]): string => e.sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ');
  const pick = (pre: string): [string, number][] => [...sums].filter(([k]) => k.startsWith(pre)).map(([k, v]) => [k.slice(pre.length), v]);
  process.stdout.write(`${name} kernel ms/run (profiling adds per-node overhead): ${fmt([...sums].filter(([k]) => !k.includes(':')))}\n`);
  process.stdout.write(`backward by op: ${fmt(pick('backward:')).split(', ').slice(0, 12).join(', ')}\n`);
  process.stdout.write(`forward by op: ${fmt(pick('forward:')).split(', ').slice(0, 8).join(', ')}\n`);
  for (const [k, v] of [...nodes].sort((a, b) => b[1].ms - a[1].ms).slice(0, top)) process.stdout.write(`${v.ms.toFixed(3).padStart(7)} ms  ${v.op.padEnd(14)} ${k}\n`);
}

const profIdx = process.argv.indexOf('--profile');
if (profIdx >= 0) {
  await profile(process.argv[profIdx + 1] ?? 'yolox-nano', Number(process.argv[profIdx + 2] ?? 15));
  process.exit(0);
}

/** Median ms of each function, run in turns after 2 warm-up rounds. */
async function interleavedMedians(fns: (() => Promise<void>)[], n: number): Promise<number[]> {
  for (let i = 0; i < 2; i++) for (const f of fns) await f();
  const t = fns.map(() => [] as number[]);
  for (let r = 0; r < n; r++) for (const [k, f] of fns.entries()) { const s = performance.now(); await f(); t[k].push(performance.now() - s); }
  return t.map((v) => v.sort((a, b) => a - b)[Math.floor(v.length / 2)]);
}
for (const name of MODELS) {
  let spec: CheckModelSpec;
  try {
    spec = resolveCheckTarget(name, { modelsDir: config.modelsDir });
  } catch (err) {
    rows.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
    process.stdout.write(`${rows[rows.length - 1]}\n`);
    continue;
  }
  const s = await openCheckSessions(spec, settings);
  sample();
  const { x } = await readModelInput(media, spec, frame.file, frame.seekS);
  const y = await s.forward(x.data);
  const mask = fullMask(spec, y);
  // Round-robin so that load changes on a shared machine hit all three alike.
  const [fw, vj, fu] = await interleavedMedians([
    async () => { await s.forward(x.data); sample(); },
    async () => { await s.vjpGradient(x.data, y); sample(); },
    async () => { await s.gradient(x.data, mask); sample(); },
  ], runs);
  rows.push(`${spec.name.padEnd(18)} forward ${fw.toFixed(2).padStart(7)} ms  vjp ${vj.toFixed(2).padStart(7)} ms  fused ${fu.toFixed(2).padStart(7)} ms  vjp/fwd ${(vj / fw).toFixed(2)}×  fused/fwd ${(fu / fw).toFixed(2)}×  (build ${s.buildMs.toFixed(0)} ms)`);
  process.stdout.write(`${rows[rows.length - 1]}\n`);
  await s.release();
}
process.stdout.write(`peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB\n`);
