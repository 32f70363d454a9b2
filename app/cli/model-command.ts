// `model grad` / `model check`: write VJP models and check them against finite differences.
import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { buildFusedModel } from '../../src/autodiff/fused.js';
import { SCORE_MAP_NAMES, type ScoreMapName, scoreMaps } from '../../src/autodiff/objective.js';
import { DEFAULT_FOOTAGE, MODEL_PRESETS, type ModelPreset, presetForFile } from '../../src/autodiff/presets.js';
import {
  createSession, gradientCheck, loadPresetFrame, medianMs, runSession,
} from '../../src/autodiff/runner.js';
import { buildVjpModel } from '../../src/autodiff/vjp.js';

const parseShape = (s: string): number[] => s.split(/[,x]/).map(Number);

function scoreMapOption(v: string): ScoreMapName {
  if (!(SCORE_MAP_NAMES as string[]).includes(v)) throw new Error(`unknown score map ${v} (one of ${SCORE_MAP_NAMES.join(', ')})`);
  return v as ScoreMapName;
}

export interface CheckReport {
  model: string; maxRelError: number; directions: number; forwardMs: number; vjpMs: number; fusedMs: number;
}

export async function runModelCheck(file: string, o: { image?: string; scoreMap?: ScoreMapName; inputShape?: number[]; directions?: number; pixels?: number; eps?: number; seekS?: number }): Promise<CheckReport & { details: Awaited<ReturnType<typeof gradientCheck>> }> {
  const known = presetForFile(file);
  const scoreMap = o.scoreMap ?? known?.scoreMap;
  if (!scoreMap) throw new Error(`cannot tell which score map fits ${file}; pass --score-map (${SCORE_MAP_NAMES.join('|')})`);
  const base = known ?? Object.values(MODEL_PRESETS).find((p) => p.scoreMap === scoreMap) as ModelPreset;
  const preset: ModelPreset = o.inputShape ? { ...base, height: o.inputShape[2], width: o.inputShape[3] } : base;
  const inputShape = [1, 3, preset.height, preset.width];
  const bytes = new Uint8Array(await readFile(file));
  const original = await createSession(bytes);
  const yName = scoreMaps[scoreMap].pickOutput(original.outputNames);
  const fused = await createSession(buildFusedModel(bytes, scoreMap, { inputShape }));
  const vjp = await createSession(buildVjpModel(bytes, { inputShape, output: yName }));
  const x = await loadPresetFrame(preset, o.image ?? DEFAULT_FOOTAGE, o.image ? (o.seekS ?? 0) : (o.seekS ?? 1));
  const directions = o.directions ?? 4, pixels = o.pixels ?? 3;
  // ε = 0.05 of a 0..255 pixel step, in model units.
  const eps = (o.eps ?? 0.5) / (255 * preset.std[0]);
  const details = await gradientCheck({ original, fused, scoreMap, yName, x, threshold: preset.threshold, eps, directions, pixels, segments: 16 });
  const inName = original.inputNames[0];
  const y = (await runSession(original, { [inName]: x }))[yName];
  const maskMeta = fused.inputMetadata.find((m) => m.name === 'mask') as unknown as { shape: number[] };
  const mask = { data: new Float32Array(maskMeta.shape.reduce((a, b) => a * b, 1)).fill(1), dims: maskMeta.shape };
  const forwardMs = await medianMs(() => runSession(original, { [inName]: x }));
  const vjpMs = await medianMs(() => runSession(vjp, { [vjp.inputNames.find((n) => n !== 'dY') as string]: x, dY: y }));
  const fusedMs = await medianMs(() => runSession(fused, { [fused.inputNames.find((n) => n !== 'mask') as string]: x, mask }));
  await Promise.all([original.release(), fused.release(), vjp.release()]);
  return { model: preset.name, maxRelError: details.maxRelError, directions: directions + pixels, forwardMs, vjpMs, fusedMs, details };
}

export function registerModelCommands(program: Command): void {
  const model = program.command('model').description('ONNX model tools: reverse-mode (VJP) models and gradient checks');
  model.command('grad <in>')
    .description('write a VJP model: (X, dY) → (dX, Y), or with --fused (X, mask) → (dX, Y, A)')
    .requiredOption('-o, --out <file>', 'output .onnx')
    .option('--input <name>', 'differentiated input (default: first input)')
    .option('--output <name>', 'seeded output (default: first output, or the score map\'s)')
    .option('--fused <scoreMap>', `compute the seed in-graph from the proxy objective (${SCORE_MAP_NAMES.join('|')})`, scoreMapOption)
    .option('--input-shape <shape>', 'static input shape for dynamic models, e.g. 1,3,352,640', parseShape)
    .action(async (file: string, o: { out: string; input?: string; output?: string; fused?: ScoreMapName; inputShape?: number[] }) => {
      const bytes = new Uint8Array(await readFile(file));
      const opts = { input: o.input, output: o.output, inputShape: o.inputShape };
      const out = o.fused ? buildFusedModel(bytes, o.fused, opts) : buildVjpModel(bytes, opts);
      await writeFile(o.out, out);
      process.stdout.write(`wrote ${o.out} (${out.length} bytes)\n`);
    });
  model.command('check <in>')
    .description('compare the VJP against central finite differences of the original model on a real frame')
    .option('--image <file>', 'PNG/JPEG (or video) frame; default: 1 s into the shared dashcam footage')
    .option('--score-map <name>', `score map (${SCORE_MAP_NAMES.join('|')}); default from the model file name`, scoreMapOption)
    .option('--input-shape <shape>', 'static input shape for dynamic models', parseShape)
    .option('--directions <n>', 'random directions', (v) => Number(v), 4)
    .option('--pixels <n>', 'single-pixel directions', (v) => Number(v), 3)
    .option('--eps <v>', 'step on the 0..255 pixel scale', (v) => Number(v), 0.5)
    .option('--json', 'print one JSON object')
    .action(async (file: string, o: { image?: string; scoreMap?: ScoreMapName; inputShape?: number[]; directions: number; pixels: number; eps: number; json?: boolean }) => {
      const r = await runModelCheck(file, o);
      if (o.json) {
        const { model: m, maxRelError, directions, forwardMs, vjpMs, fusedMs } = r;
        process.stdout.write(`${JSON.stringify({ model: m, maxRelError, directions, forwardMs, vjpMs, fusedMs })}\n`);
        return;
      }
      for (const e of r.details.errors) process.stdout.write(`${e.kind.padEnd(9)} ⟨dX,v⟩-integral ${e.ad.toExponential(4)}  ΔA ${e.fd.toExponential(4)}  rel ${e.rel.toExponential(2)}\n`);
      process.stdout.write(`${r.model}: max relative error ${r.maxRelError.toExponential(2)} over ${r.directions} directions (A=${r.details.proxy.toFixed(3)}, ${r.details.maskCount} mask entries, |dX|=${r.details.gradNorm.toExponential(3)})\n`);
      process.stdout.write(`median ms: forward ${r.forwardMs.toFixed(2)}  vjp ${r.vjpMs.toFixed(2)} (${(r.vjpMs / r.forwardMs).toFixed(2)}×)  fused ${r.fusedMs.toFixed(2)} (${(r.fusedMs / r.forwardMs).toFixed(2)}×)\n`);
    });
}
