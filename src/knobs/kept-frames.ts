/**
 * Which analysis slot (source frame) the encoder kept as decoded frame `j` when `slots` frames
 * were encoded at `frames` per segment: ffmpeg's fps filter keeps, for output frame j, the
 * input nearest to the middle of its interval, ties to the earlier one (measured: 2 of 10 keeps
 * slots 2 and 7, 4 keeps 1, 3, 6, 8). The policy's audit re-sends exactly that frame.
 */
export function keptSlot(j: number, frames: number, slots: number): number {
  if (frames <= 0 || slots <= 0) throw new Error(`keptSlot needs frames and slots > 0, got ${frames} and ${slots}`);
  if (frames >= slots) return Math.min(j, slots - 1);
  return Math.min(slots - 1, Math.max(0, Math.ceil(((j + 0.5) * slots) / frames - 1)));
}
