// Whole-model gradient checks on the project's detectors with real frames.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runModelCheck } from '../../src/cli/model-command.js';
import { DEFAULT_FOOTAGE, MODEL_PRESETS } from '../../src/autodiff/presets.js';

const execFileP = promisify(execFile);

/** A frame with rendered text for the text detector (the shared footage has little legible text). */
async function textFrame(): Promise<string> {
  const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'ad-')), 'text.png');
  await execFileP('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'color=c=white:s=640x352', '-vf',
    "drawtext=text='OneAdapt 2026 SPEED 55':fontsize=56:x=40:y=60:fontcolor=black,drawtext=text='EXIT 12 NORTH':fontsize=64:x=60:y=200:fontcolor=black",
    '-frames:v', '1', out]);
  return out;
}

const cases: { preset: string; image?: () => Promise<string>; eps: number }[] = [
  { preset: 'yolox-nano', eps: 0.05 },
  { preset: 'fastestdet', eps: 0.02 },
  // No shared footage shows faces: the mask falls back to the strongest-scoring anchors.
  { preset: 'ultraface-rfb-320', eps: 0.2 },
  { preset: 'ppocr-det', image: textFrame, eps: 0.05 },
];

describe('whole models: fused VJP vs the original model along random directions and single pixels', () => {
  for (const c of cases) {
    const p = MODEL_PRESETS[c.preset];
    const present = existsSync(p.file) && existsSync(DEFAULT_FOOTAGE);
    it.skipIf(!present)(`${c.preset}${present ? '' : ' (model or footage missing)'}`, async () => {
      const image = c.image ? await c.image() : undefined;
      const r = await runModelCheck(p.file, { image, directions: 3, pixels: 2, eps: c.eps });
      expect(r.details.gradNorm).toBeGreaterThan(0);
      expect(r.details.proxy).toBeGreaterThan(0);
      expect(r.maxRelError).toBeLessThan(1e-2);
    }, 180_000);
  }
});
