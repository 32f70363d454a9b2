import type { KnobName } from '../knobs/space.js';
import type { Probe, ProbeVariant } from './inputgrad-probe.js';

/** Per-knob terms the coordinator turns into a gradient (see knobGradient). */
export interface KnobTerms {
  knob: KnobName;
  /**
   * rec = Σ_mb S_mb · D_mb / (Σ_mb S_mb · 256 · frames), D on 0..1 pixels: the distortion of
   * an average pixel where the DNN looks, per frame. Normalising by the total saliency makes
   * one weight serve cameras of any resolution and scene (see README, "Adaptation").
   */
  recHq: number;
  recLq: number;
  /** Bytes relative to the reference encode. */
  bwHq: number;
  bwLq: number;
  /** Frames inferred relative to the reference frame rate. */
  gpuHq: number;
  gpuLq: number;
  /** rec of the reference encode of the same frames, when the probe has it (target mode). */
  recRef?: number;
}

/** Σ S·D / norm, S per macroblock (per pixel), D per macroblock (summed over its pixels). */
export function saliencyWeightedDistortion(saliency: ArrayLike<number>, v: ProbeVariant, norm: number): number {
  if (saliency.length !== v.distortion.length) throw new Error(`saliency has ${saliency.length} macroblocks, probe ${v.distortion.length}`);
  let s = 0;
  for (let i = 0; i < saliency.length; i++) s += saliency[i] * v.distortion[i];
  // The probe counts distortion in 0..255 units; the saliency is per 0..1 pixel value.
  return s / 255 / norm;
}

/** Pixels per macroblock: the saliency is a per-pixel mean, the distortion a per-block sum. */
const MB_PIXELS = 256;

/**
 * AccGrad's ingredients for every knob of a probed segment, from the DNN's saliency on the
 * sampled frame (broadcast over the segment's frames, as in the paper). No saliency at all
 * (nothing of interest in view) makes every accuracy term zero.
 */
export function knobTerms(probe: Probe, saliency: ArrayLike<number>): KnobTerms[] {
  let total = 0;
  for (let i = 0; i < saliency.length; i++) total += saliency[i];
  const norm = total > 0 ? total * MB_PIXELS * probe.frames : Infinity;
  const hqRec = saliencyWeightedDistortion(saliency, probe.current, norm);
  const out: KnobTerms[] = [];
  for (const [knob, v] of Object.entries(probe.cheaper) as [KnobName, ProbeVariant][]) {
    out.push({
      knob,
      recHq: hqRec,
      recLq: saliencyWeightedDistortion(saliency, v, norm),
      bwHq: probe.current.bytes / probe.refBytes,
      bwLq: v.bytes / probe.refBytes,
      gpuHq: probe.current.fps / probe.refFps,
      gpuLq: v.fps / probe.refFps,
      ...(probe.reference ? { recRef: saliencyWeightedDistortion(saliency, probe.reference, norm) } : {}),
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
