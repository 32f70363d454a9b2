// Whole-model gradient checks on the project's detectors with real frames.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { resolveCheckTarget, runModelCheck } from '../../app/model-check/check.js';
import { defaultCheckFrame } from '../../app/model-check/frame.js';
import { loadConfig } from '../../src/config/config.js';

const execFileP = promisify(execFile);

/** A frame with rendered text for the text detector (the shared footage has little legible text). */
async function textFrame(): Promise<string> {
  const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'ad-')), 'text.png');
  await execFileP('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'color=c=white:s=640x352', '-vf',
    "drawtext=text='OneAdapt 2026 SPEED 55':fontsize=56:x=40:y=60:fontcolor=black,drawtext=text='EXIT 12 NORTH':fontsize=64:x=60:y=200:fontcolor=black",
    '-frames:v', '1', out]);
  return out;
}

/**
 * A real photo with a face for the face detector (no shared footage shows faces, and without one
 * the proxy is ~0.003 and float32 noise decides the check): scikit-image's astronaut.png from the
 * Debian package python3-skimage, or ONEADAPT_FACE_IMAGE.
 */
const FACE_IMAGE_PACKAGE = 'python3-skimage';
const FACE_IMAGE = process.env.ONEADAPT_FACE_IMAGE ?? '/usr/lib/python3/dist-packages/skimage/data/astronaut.png';

const cases: { model: string; image?: () => Promise<string>; eps: number; needs?: string; missing?: string }[] = [
  { model: 'yolox-nano', eps: 0.05 },
  { model: 'fastestdet', eps: 0.02 },
  {
    // version-RFB-320.onnx
    model: 'ultraface', image: async () => FACE_IMAGE, eps: 0.05, needs: FACE_IMAGE,
    missing: `face photo ${FACE_IMAGE} missing: apt-get install ${FACE_IMAGE_PACKAGE} (or set ONEADAPT_FACE_IMAGE)`,
  },
  { model: 'ppocr-det', image: textFrame, eps: 0.05 },
];

const config = loadConfig();
const FOOTAGE = defaultCheckFrame();

/** Why a model cannot be checked here (its file is missing), or undefined. */
function modelMissing(model: string): string | undefined {
  try {
    resolveCheckTarget(model, { modelsDir: config.modelsDir });
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

describe('whole models: fused VJP vs the original model along random directions and single pixels', () => {
  for (const c of cases) {
    const missing = modelMissing(c.model);
    const why = missing ? `model missing: ${missing}` : !c.image && !existsSync(FOOTAGE.file) ? `footage missing: ${FOOTAGE.file}`
      : c.needs && !existsSync(c.needs) ? c.missing : undefined;
    it.skipIf(!!why)(`${c.model}${why ? ` (skipped: ${why})` : ''}`, async () => {
      const image = c.image ? await c.image() : undefined;
      const r = await runModelCheck(c.model, { image: image ?? FOOTAGE.file, seekS: image ? 0 : FOOTAGE.seekS, directions: 3, pixels: 2, eps: c.eps, config });
      expect(r.details.gradNorm).toBeGreaterThan(0);
      expect(r.details.proxy).toBeGreaterThan(0);
      expect(r.maxRelError).toBeLessThan(1e-2);
    }, 180_000);
  }
});
