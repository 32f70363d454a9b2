import type { KnobName } from '../knobs/space.js';
import type { Probe, ProbeVariant } from './probe.js';

/** Per-knob terms the coordinator turns into a gradient (see knobGradient). */
export interface KnobTerms {
  knob: KnobName;
  /** rec = (1/N) Σ_mb S_mb · D_mb, with D on 0..1 pixels; N = pixels × frames. */
  recHq: number;
  recLq: number;
  /** Bytes relative to the reference encode. */
  bwHq: number;
  bwLq: number;
  /** Frames inferred relative to the reference frame rate. */
  gpuHq: number;
  gpuLq: number;
}

/** (1/N) Σ S·D where S is per macroblock and D is per macroblock, summed over its pixels. */
export function saliencyWeightedDistortion(saliency: ArrayLike<number>, v: ProbeVariant, pixels: number): number {
  if (saliency.length !== v.distortion.length) throw new Error(`saliency has ${saliency.length} macroblocks, probe ${v.distortion.length}`);
  let s = 0;
  for (let i = 0; i < saliency.length; i++) s += saliency[i] * v.distortion[i];
  // The probe counts distortion in 0..255 units; the saliency is per 0..1 pixel value.
  return s / 255 / pixels;
}

/**
 * AccGrad's ingredients for every knob of a probed segment, from the DNN's saliency on the
 * sampled frame (broadcast over the segment's frames, as in the paper).
 */
export function knobTerms(probe: Probe, saliency: ArrayLike<number>): KnobTerms[] {
  const pixels = probe.width * probe.height * probe.frames;
  const hqRec = saliencyWeightedDistortion(saliency, probe.current, pixels);
  const out: KnobTerms[] = [];
  for (const [knob, v] of Object.entries(probe.cheaper) as [KnobName, ProbeVariant][]) {
    out.push({
      knob,
      recHq: hqRec,
      recLq: saliencyWeightedDistortion(saliency, v, pixels),
      bwHq: probe.current.bytes / probe.refBytes,
      bwLq: v.bytes / probe.refBytes,
      gpuHq: probe.current.fps / probe.refFps,
      gpuLq: v.fps / probe.refFps,
    });
  }
  return out;
}

export interface GradientWeights {
  /** Weight of the accuracy term (reconstruction loss on 0..1 pixels). */
  wRec: number;
  /** Price of bandwidth (relative to the reference encode). */
  lambdaBw: number;
  /** Price of GPU frames (relative to the reference frame rate). */
  lambdaGpu: number;
}

/**
 * g_k = (N_k − 1)·[w_rec·(rec_HQ − rec_LQ) + λ_bw·(bw_HQ − bw_LQ) + λ_gpu·(gpu_HQ − gpu_LQ)].
 * Positive: going cheaper pays (the resources saved outweigh the accuracy lost).
 */
export function knobGradient(t: Omit<KnobTerms, 'knob'>, levels: number, w: GradientWeights): number {
  return (levels - 1) * (w.wRec * (t.recHq - t.recLq) + w.lambdaBw * (t.bwHq - t.bwLq) + w.lambdaGpu * (t.gpuHq - t.gpuLq));
}
