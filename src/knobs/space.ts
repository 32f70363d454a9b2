import { PermanentError } from '../errors.js';

/**
 * Knob spaces: for each knob an ordered list of levels, most expensive first.
 * A stream's knob setting is one level per knob; the adaptive policy moves a continuous
 * x ∈ (0, 1] per knob and discretises it (see state.ts).
 */
export type KnobName = 'qp' | 'resolution' | 'fps' | 'roi';
export const KNOB_NAMES: readonly KnobName[] = ['qp', 'resolution', 'fps', 'roi'];

/**
 * One value per knob: x264 QP, scale of the source width/height, frames per second, and the
 * QP offset of macroblocks outside the stream's region of interest (0 = one QP everywhere).
 */
export interface KnobSetting {
  qp: number;
  resolution: number;
  fps: number;
  roi: number;
}

export type KnobSpaces = Record<KnobName, readonly number[]>;

export const DEFAULT_SPACES: KnobSpaces = {
  qp: [20, 24, 28, 32, 36, 40, 44, 48],
  resolution: [1, 0.83, 0.67, 0.53, 0.47, 0.4, 0.33],
  fps: [10, 8, 6, 4, 2],
  roi: [0, 4, 8, 12, 16],
};

/** The largest QP offset outside the region of interest (x264 caps offsets at the QP range). */
export const MAX_ROI_OFFSET = 25;

export class KnobError extends PermanentError {
  override name = 'KnobError';
}

/** The highest-quality setting: ground truth for accuracy and the bandwidth yardstick. */
export function referenceSetting(spaces: KnobSpaces = DEFAULT_SPACES): KnobSetting {
  return { qp: spaces.qp[0], resolution: spaces.resolution[0], fps: spaces.fps[0], roi: spaces.roi[0] };
}

/** Even output size for a resolution scale of a source (x264 with yuv420p needs even sizes). */
export function scaledSize(sourceWidth: number, sourceHeight: number, scale: number): { width: number; height: number } {
  const even = (v: number) => Math.max(2, 2 * Math.round(v / 2));
  return { width: even(sourceWidth * scale), height: even(sourceHeight * scale) };
}

/** `768x576`, the form reports and users read. */
export function resolutionLabel(sourceWidth: number, sourceHeight: number, scale: number): string {
  const { width, height } = scaledSize(sourceWidth, sourceHeight, scale);
  return `${width}x${height}`;
}

export function validateSpaces(spaces: KnobSpaces): KnobSpaces {
  for (const k of KNOB_NAMES) {
    const levels = spaces[k];
    if (!Array.isArray(levels) || levels.length < 1) throw new KnobError(`knob space "${k}": expected at least one level, got ${JSON.stringify(levels)}`);
    for (let i = 1; i < levels.length; i++) {
      const cheaper = k === 'qp' || k === 'roi' ? levels[i] > levels[i - 1] : levels[i] < levels[i - 1];
      if (!cheaper) throw new KnobError(`knob space "${k}": levels must go from expensive to cheap, got ${levels.join(', ')}`);
    }
  }
  if (spaces.qp.some((q) => !Number.isInteger(q) || q < 0 || q > 51)) throw new KnobError(`knob space "qp": expected integers 0..51, got ${spaces.qp.join(', ')}`);
  if (spaces.resolution.some((r) => !(r > 0 && r <= 1))) throw new KnobError(`knob space "resolution": expected scales in (0, 1], got ${spaces.resolution.join(', ')}`);
  if (spaces.fps.some((f) => !(f > 0))) throw new KnobError(`knob space "fps": expected positive frame rates, got ${spaces.fps.join(', ')}`);
  if (spaces.roi.some((o) => !Number.isInteger(o) || o < 0 || o > MAX_ROI_OFFSET)) throw new KnobError(`knob space "roi": expected integer QP offsets 0..${MAX_ROI_OFFSET}, got ${spaces.roi.join(', ')}`);
  return spaces;
}

/**
 * Parses `qp=28,resolution=0.67,fps=5,roi=8` (resolution also as a width like `resolution=640`
 * relative to `sourceWidth`, or `WxH`). Knobs left out keep the reference level.
 */
export function parseSetting(text: string, base: KnobSetting, sourceWidth?: number): KnobSetting {
  const out = { ...base };
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(qp|resolution|res|fps|roi)=(.+)$/.exec(part);
    if (!m) throw new KnobError(`bad knob "${part}": expected qp=<0..51>, resolution=<scale|WxH>, fps=<n> or roi=<0..${MAX_ROI_OFFSET}>`);
    const [, key, raw] = m;
    if (key === 'roi') {
      const v = Number(raw);
      if (!Number.isInteger(v) || v < 0 || v > MAX_ROI_OFFSET) throw new KnobError(`bad knob "${part}": roi must be an integer QP offset 0..${MAX_ROI_OFFSET}`);
      out.roi = v;
    } else if (key === 'qp') {
      const v = Number(raw);
      if (!Number.isInteger(v) || v < 0 || v > 51) throw new KnobError(`bad knob "${part}": qp must be an integer 0..51`);
      out.qp = v;
    } else if (key === 'fps') {
      const v = Number(raw);
      if (!(v > 0 && v <= 60)) throw new KnobError(`bad knob "${part}": fps must be in (0, 60]`);
      out.fps = v;
    } else {
      const wh = /^(\d+)x(\d+)$/.exec(raw);
      let v = Number(raw);
      if (wh || v > 1) {
        if (!sourceWidth) throw new KnobError(`bad knob "${part}": a pixel size needs the source width; use a scale in (0, 1]`);
        v = Number(wh ? wh[1] : raw) / sourceWidth;
      }
      if (!(v > 0 && v <= 1)) throw new KnobError(`bad knob "${part}": resolution must be a scale in (0, 1] or a size no larger than the source`);
      out.resolution = v;
    }
  }
  return out;
}

export function sameSetting(a: KnobSetting, b: KnobSetting): boolean {
  return a.qp === b.qp && a.resolution === b.resolution && a.fps === b.fps && a.roi === b.roi;
}

/**
 * Parses `qp=20,24,28;resolution=1,0.75,0.5;fps=10,5` over the defaults (knobs left out keep
 * their default ladder) and validates the result.
 */
export function parseSpaces(text: string, base: KnobSpaces = DEFAULT_SPACES): KnobSpaces {
  const out: KnobSpaces = { ...base };
  for (const part of text.split(';').map((p) => p.trim()).filter(Boolean)) {
    const m = /^(qp|resolution|fps|roi)=([\d.,\s]+)$/.exec(part);
    if (!m) throw new KnobError(`bad knob ladder "${part}": expected qp|resolution|fps|roi=<level>,<level>,… (expensive first)`);
    out[m[1] as KnobName] = m[2].split(',').map((v) => Number(v.trim()));
  }
  return validateSpaces(out);
}
