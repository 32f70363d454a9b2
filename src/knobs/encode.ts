import { scaledSize, type KnobSetting } from './space.js';

/** A setting with the exact encode size for one source. */
export interface EncodedKnobs extends KnobSetting {
  width: number;
  height: number;
}

/** A knob setting made concrete for one source: the exact encode size. */
export function encodedKnobs(setting: KnobSetting, sourceWidth: number, sourceHeight: number): EncodedKnobs {
  return { ...setting, ...scaledSize(sourceWidth, sourceHeight, setting.resolution) };
}

/** The form a report shows: `{ qp: 28, resolution: "768x576", fps: 10 }`. */
export function knobsLabel(k: EncodedKnobs): { qp: number; resolution: string; fps: number } {
  return { qp: k.qp, resolution: `${k.width}x${k.height}`, fps: k.fps };
}
