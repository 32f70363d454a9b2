// Forward vs VJP vs fused VJP timings per model (2 intra-op threads), plus peak RSS.
// `--profile <preset> [topN]`: onnxruntime's per-node kernel times of that preset's fused model instead
// (forward / backward / proxy split, time per op type, the top nodes; backward nodes are named vjp/…).
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { buildFusedModel } from '../src/autodiff/fused.js';
import { scoreMaps } from '../src/autodiff/objective.js';
import { DEFAULT_FOOTAGE, MODEL_PRESETS } from '../src/autodiff/presets.js';
import { SESSION_OPTIONS, createSession, loadPresetFrame, runSession } from '../src/autodiff/runner.js';
import { buildVjpModel } from '../src/autodiff/vjp.js';

const runs = Number(process.env.BENCH_RUNS ?? 20);
let peakRss = process.memoryUsage().rss;
const sample = (): void => { peakRss = Math.max(peakRss, process.memoryUsage().rss); };
const rows: string[] = [];

async function profile(name: string, top: number): Promise<void> {
  const p = MODEL_PRESETS[name];
  if (!p) throw new Error(`unknown preset ${name}; presets: ${Object.keys(MODEL_PRESETS).join(', ')}`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vjp-prof-'));
  const fusedBytes = buildFusedModel(readFileSync(p.file), p.scoreMap, { inputShape: [1, 3, p.height, p.width] });
  const s = await ort.InferenceSession.create(fusedBytes, { ...SESSION_OPTIONS, enableProfiling: true, profileFilePrefix: path.join(dir, 'p') });
  const x = await loadPresetFrame(p, DEFAULT_FOOTAGE, 1);
  const maskMeta = s.inputMetadata.find((m) => m.name === 'mask') as unknown as { shape: number[] };
  const mask = { data: new Float32Array(maskMeta.shape.reduce((a, b) => a * b, 1)).fill(1), dims: maskMeta.shape };
  const inName = s.inputNames.find((n) => n !== 'mask') as string;
  for (let i = 0; i < runs; i++) await runSession(s, { [inName]: x, mask });
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
for (const p of Object.values(MODEL_PRESETS)) {
  if (!existsSync(p.file)) { rows.push(`${p.name}: model file missing (${p.file})`); continue; }
  const bytes = readFileSync(p.file);
  const inputShape = [1, 3, p.height, p.width];
  const original = await createSession(bytes);
  const yName = scoreMaps[p.scoreMap].pickOutput(original.outputNames);
  const t0 = performance.now();
  const vjpBytes = buildVjpModel(bytes, { inputShape, output: yName });
  const fusedBytes = buildFusedModel(bytes, p.scoreMap, { inputShape });
  const buildMs = performance.now() - t0;
  const vjp = await createSession(vjpBytes);
  const fused = await createSession(fusedBytes);
  sample();
  const x = await loadPresetFrame(p, DEFAULT_FOOTAGE, 1);
  const inName = original.inputNames[0];
  const y = (await runSession(original, { [inName]: x }))[yName];
  const maskMeta = fused.inputMetadata.find((m) => m.name === 'mask') as unknown as { shape: number[] };
  const mask = { data: new Float32Array(maskMeta.shape.reduce((a, b) => a * b, 1)).fill(1), dims: maskMeta.shape };
  // Round-robin so that load changes on a shared machine hit all three alike.
  const [fw, vj, fu] = await interleavedMedians([
    async () => { await runSession(original, { [inName]: x }); sample(); },
    async () => { await runSession(vjp, { [inName]: x, dY: y }); sample(); },
    async () => { await runSession(fused, { [inName]: x, mask }); sample(); },
  ], runs);
  rows.push(`${p.name.padEnd(18)} forward ${fw.toFixed(2).padStart(7)} ms  vjp ${vj.toFixed(2).padStart(7)} ms  fused ${fu.toFixed(2).padStart(7)} ms  vjp/fwd ${(vj / fw).toFixed(2)}×  fused/fwd ${(fu / fw).toFixed(2)}×  (build ${buildMs.toFixed(0)} ms)`);
  process.stdout.write(`${rows[rows.length - 1]}\n`);
  await Promise.all([original.release(), vjp.release(), fused.release()]);
}
process.stdout.write(`peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB\n`);
