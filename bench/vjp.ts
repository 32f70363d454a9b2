// Forward vs VJP vs fused VJP timings per model (2 intra-op threads), plus peak RSS.
import { existsSync, readFileSync } from 'node:fs';
import { buildFusedModel } from '../src/autodiff/fused.js';
import { scoreMaps } from '../src/autodiff/objective.js';
import { DEFAULT_FOOTAGE, MODEL_PRESETS } from '../src/autodiff/presets.js';
import { createSession, loadPresetFrame, medianMs, runSession } from '../src/autodiff/runner.js';
import { buildVjpModel } from '../src/autodiff/vjp.js';

const runs = Number(process.env.BENCH_RUNS ?? 20);
let peakRss = process.memoryUsage().rss;
const sample = (): void => { peakRss = Math.max(peakRss, process.memoryUsage().rss); };
const rows: string[] = [];
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
  const fw = await medianMs(async () => { await runSession(original, { [inName]: x }); sample(); }, runs);
  const vj = await medianMs(async () => { await runSession(vjp, { [inName]: x, dY: y }); sample(); }, runs);
  const fu = await medianMs(async () => { await runSession(fused, { [inName]: x, mask }); sample(); }, runs);
  rows.push(`${p.name.padEnd(18)} forward ${fw.toFixed(2).padStart(7)} ms  vjp ${vj.toFixed(2).padStart(7)} ms  fused ${fu.toFixed(2).padStart(7)} ms  vjp/fwd ${(vj / fw).toFixed(2)}×  fused/fwd ${(fu / fw).toFixed(2)}×  (build ${buildMs.toFixed(0)} ms)`);
  process.stdout.write(`${rows[rows.length - 1]}\n`);
  await Promise.all([original.release(), vjp.release(), fused.release()]);
}
process.stdout.write(`peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB\n`);
