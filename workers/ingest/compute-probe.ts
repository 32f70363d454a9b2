import { macroblockDistortion } from '../../src/adapt/distortion.js';
import type { Probe, ProbeVariant } from '../../src/adapt/inputgrad-probe.js';
import { encodeSettings, encodedKnobs, type EncodedKnobs } from '../../src/knobs/encode.js';
import { KNOB_NAMES, referenceSetting, sameSetting, type KnobName, type KnobSetting, type KnobSpaces } from '../../src/knobs/space.js';
import type { MediaPort, RawFrame } from '../../src/media/types.js';

export interface ProbeInput {
  seq: number;
  frames: RawFrame[];
  inputFps: number;
  current: EncodedKnobs;
  /** The segment as encoded and uploaded (its decode is the current variant). */
  currentData: Buffer;
  spaces: KnobSpaces;
  sourceWidth: number;
  sourceHeight: number;
  /** Reference bytes from an earlier probe; undefined → encode the reference now. */
  refBytes?: number;
  /** Knobs to probe (the policy's adapting ones); default every knob. */
  knobs?: readonly KnobName[];
  /** Also measure the reference encode's distortion (policies that target an accuracy). */
  withReference?: boolean;
  /**
   * Size the frames are compared at: what the DNN sees (its input size), never more than the
   * source. Default: the source size.
   */
  analysisSize?: { width: number; height: number };
}

/** The one-step-cheaper setting for each knob that has one. */
export function cheaperSettings(current: KnobSetting, spaces: KnobSpaces): Partial<Record<KnobName, KnobSetting>> {
  const out: Partial<Record<KnobName, KnobSetting>> = {};
  for (const k of KNOB_NAMES) {
    const i = spaces[k].indexOf(current[k]);
    if (i < 0 || i + 1 >= spaces[k].length) continue;
    out[k] = { ...current, [k]: spaces[k][i + 1] };
  }
  return out;
}

/**
 * InputGrad probe of one segment: encode the one-step-cheaper variant of each knob (and the
 * reference when its size is not known yet), decode them and the segment at the size the DNN
 * sees, and sum per-macroblock distortion against the raw frames scaled the same way.
 */
export async function computeProbe(media: MediaPort, p: ProbeInput): Promise<{ probe: Probe; ms: number }> {
  const t0 = performance.now();
  const cheaper = cheaperSettings(p.current, p.spaces);
  // No region of interest yet (the stream's first results are not in): nothing to probe for roi.
  if (p.current.roiMask === undefined) delete cheaper.roi;
  // A knob the policy holds fixed needs no variant: its gradient would go unused.
  for (const k of KNOB_NAMES) if (p.knobs && !p.knobs.includes(k)) delete cheaper[k];
  const knobs = Object.keys(cheaper) as KnobName[];
  // Each variant changes one knob and keeps the others, the region of interest included.
  const variants: EncodedKnobs[] = knobs.map((k) => encodedKnobs(cheaper[k]!, p.sourceWidth, p.sourceHeight, p.current.roiMask));
  const ref = encodedKnobs(referenceSetting(p.spaces), p.sourceWidth, p.sourceHeight);
  // At the reference itself the current variant is the reference: nothing more to encode.
  const refDistortion = p.withReference === true && !sameSetting(p.current, referenceSetting(p.spaces));
  const needRef = p.refBytes === undefined || refDistortion;
  const settings = (needRef ? [...variants, ref] : variants).map((v) => encodeSettings(v, p.sourceWidth, p.sourceHeight));
  const encoded = await media.encodeMany(p.frames, p.inputFps, settings);
  const size = p.analysisSize ?? { width: p.sourceWidth, height: p.sourceHeight };
  const toDecode = [p.currentData, ...encoded.slice(0, variants.length), ...(refDistortion ? [encoded[variants.length]] : [])];
  const { decoded, scaled: reference } = await media.decodeAndScale(toDecode, p.frames, size);
  const source = { width: p.sourceWidth, height: p.sourceHeight };
  const variant = (k: EncodedKnobs, bytes: number, frames: RawFrame[]): ProbeVariant => ({
    qp: k.qp,
    resolution: k.resolution,
    fps: k.fps,
    roi: k.roi,
    bytes,
    distortion: Array.from(macroblockDistortion(frames, reference, source), (v) => Math.round(v)),
  });
  const probe: Probe = {
    seq: p.seq,
    width: p.sourceWidth,
    height: p.sourceHeight,
    frames: p.frames.length,
    refBytes: needRef ? encoded[variants.length].length : p.refBytes!,
    refFps: p.spaces.fps[0],
    current: variant(p.current, p.currentData.length, decoded[0]),
    cheaper: Object.fromEntries(knobs.map((k, i) => [k, variant(variants[i], encoded[i].length, decoded[i + 1])])),
  };
  if (p.withReference === true) probe.reference = refDistortion ? variant(ref, encoded[variants.length].length, decoded[variants.length + 1]) : probe.current;
  return { probe, ms: performance.now() - t0 };
}
