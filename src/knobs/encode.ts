import type { EncodeSettings } from '../media/types.js';
import { macroblockGrid } from './macroblocks.js';
import { decodeRoiMask, roiRects } from './roi.js';
import { referenceSetting, scaledSize, type KnobSetting, type KnobSpaces } from './space.js';

/** A setting with the exact encode size for one source. */
export interface EncodedKnobs extends KnobSetting {
  width: number;
  height: number;
  /**
   * The region of interest (knobs/roi wire form) on the source's macroblock grid, when the
   * stream has one: encodes use it when `roi` > 0, probes to try one step up the roi ladder.
   */
  roiMask?: string;
  /** The policy asked for an audit of the segments these knobs encode (see PolicyDecision.audit). */
  audit?: true;
}

/** A knob setting made concrete for one source: the exact encode size. */
export function encodedKnobs(setting: KnobSetting, sourceWidth: number, sourceHeight: number, roiMask?: string): EncodedKnobs {
  return { ...setting, ...scaledSize(sourceWidth, sourceHeight, setting.resolution), ...(roiMask !== undefined ? { roiMask } : {}) };
}

/**
 * The policy's audit frame: reference QP at the size the DNN sees (`analysisSize`), since
 * detail above it costs bytes and changes no detection. The ingest and the bench encode it so.
 */
export function frameAuditSettings(spaces: KnobSpaces, analysisSize: { width: number; height: number }, fps: number): EncodeSettings {
  return { qp: referenceSetting(spaces).qp, width: analysisSize.width, height: analysisSize.height, fps };
}

/**
 * What the encoder is told: the knobs, plus the region of interest as rectangles on the
 * encoded picture when `roi` > 0. Without a mask there is no region to favour: one QP.
 */
export function encodeSettings(k: EncodedKnobs, sourceWidth: number, sourceHeight: number): EncodeSettings {
  const base = { qp: k.qp, width: k.width, height: k.height, fps: k.fps };
  if (!(k.roi > 0) || k.roiMask === undefined) return base;
  const g = macroblockGrid(sourceWidth, sourceHeight);
  const mask = decodeRoiMask(k.roiMask, g.cols * g.rows);
  return { ...base, roi: { offset: k.roi, rects: roiRects(mask, sourceWidth, sourceHeight, k.width, k.height) } };
}

export interface KnobsLabel {
  qp: number;
  resolution: string;
  fps: number;
  roi: number;
}

/** The form a report shows: `{ qp: 28, resolution: "768x576", fps: 10, roi: 8 }`. */
export function knobsLabel(k: EncodedKnobs): KnobsLabel {
  return { qp: k.qp, resolution: `${k.width}x${k.height}`, fps: k.fps, roi: k.roi ?? 0 };
}
