// `model grad` / `model check`: write VJP models and check them against finite differences.
import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { buildFusedModel } from '../../src/autodiff/fused.js';
import { SCORE_MAP_NAMES, type ScoreMapName } from '../../src/autodiff/objective.js';
import { buildVjpModel } from '../../src/autodiff/vjp.js';
import { CHECK_MODEL_NAMES } from '../../src/models/catalog.js';
import { runModelCheck } from '../model-check/check.js';
import { defaultCheckFrame } from '../model-check/frame.js';

const parseShape = (s: string): number[] => s.split(/[,x]/).map(Number);

function scoreMapOption(v: string): ScoreMapName {
  if (!(SCORE_MAP_NAMES as string[]).includes(v)) throw new Error(`unknown score map ${v} (one of ${SCORE_MAP_NAMES.join(', ')})`);
  return v as ScoreMapName;
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
  const frame = defaultCheckFrame();
  model.command('check <model>')
    .description(`compare the fused VJP against central finite differences of the original model on a real frame; <model>: ${CHECK_MODEL_NAMES.join(', ')} (files under ONEADAPT_MODELS_DIR; ppocr-det from npm), family:file.onnx (yolox|fastestdet|ultraface|ppocr) or a catalog model's .onnx file`)
    .option('--image <file>', `PNG/JPEG or video holding the frame (default: ${frame.file} at ${frame.seekS} s)`)
    .option('--seek <s>', 'seconds into a video (default: 0 with --image)', (v) => Number(v))
    .option('--score-map <name>', `family of a bare .onnx path (${SCORE_MAP_NAMES.join('|')})`, scoreMapOption)
    .option('--input-shape <shape>', 'input shape for dynamic-input models, e.g. 1,3,352,640', parseShape)
    .option('--directions <n>', 'random directions', (v) => Number(v), 4)
    .option('--pixels <n>', 'single-pixel directions', (v) => Number(v), 3)
    .option('--eps <v>', 'step on the 0..255 pixel scale', (v) => Number(v), 0.5)
    .option('--json', 'print one JSON object')
    .action(async (name: string, o: { image?: string; seek?: number; scoreMap?: ScoreMapName; inputShape?: number[]; directions: number; pixels: number; eps: number; json?: boolean }) => {
      const r = await runModelCheck(name, {
        image: o.image ?? frame.file, seekS: o.seek ?? (o.image ? 0 : frame.seekS),
        scoreMap: o.scoreMap, inputShape: o.inputShape, directions: o.directions, pixels: o.pixels, eps: o.eps,
      });
      for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
      if (o.json) {
        const { model: m, maxRelError, directions, forwardMs, vjpMs, fusedMs } = r;
        process.stdout.write(`${JSON.stringify({ model: m, maxRelError, directions, forwardMs, vjpMs, fusedMs })}\n`);
        return;
      }
      for (const e of r.details.errors) process.stdout.write(`${e.kind.padEnd(9)} ⟨dX,v⟩-integral ${e.ad.toExponential(4)}  ΔA ${e.fd.toExponential(4)}  rel ${e.rel.toExponential(2)}\n`);
      process.stdout.write(`${r.model}: max relative error ${r.maxRelError.toExponential(2)} over ${r.directions} directions (A=${r.details.proxy.toFixed(3)}, ${r.details.maskCount} mask entries, |dX|=${r.details.gradNorm.toExponential(3)})\n`);
      process.stdout.write(`median ms (${r.providers.join(',')}): forward ${r.forwardMs.toFixed(2)}  vjp ${r.vjpMs.toFixed(2)} (${(r.vjpMs / r.forwardMs).toFixed(2)}×)  fused ${r.fusedMs.toFixed(2)} (${(r.fusedMs / r.forwardMs).toFixed(2)}×)\n`);
    });
}
