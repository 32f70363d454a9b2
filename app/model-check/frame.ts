// One frame of an image or video, through the media port, as a model's input tensor.
import path from 'node:path';
import type { Tensor32 } from '../../src/autodiff/gradient-check.js';
import type { MediaPort, RawFrame } from '../../src/media/types.js';
import { projectRoot } from '../../src/models/catalog.js';
import type { CheckModelSpec } from '../../src/models/check-model.js';
import type { FitSize } from '../../src/models/types.js';

/** The check's default frame: 1 s into the shared dashcam footage beside the project. */
export function defaultCheckFrame(): { file: string; seekS: number } {
  return { file: path.resolve(projectRoot(), '..', 'shared', 'footage', 'dashcam-960x540.mp4'), seekS: 1 };
}

export interface ModelInput {
  x: Tensor32;
  fit: FitSize;
  /** The source's size. */
  width: number;
  height: number;
}

/**
 * Decodes the frame at `startS` of `source` (PNG/JPEG or video), scaled by ffmpeg to the model's
 * fit size, then written by the model's own tensor writer (letterbox, channel order, normalisation).
 */
export async function readModelInput(media: MediaPort, spec: CheckModelSpec, source: string, startS = 0): Promise<ModelInput> {
  const info = await media.probe(source);
  const fit = spec.fitSize(info.width, info.height);
  let frame: RawFrame | undefined;
  // The native rate keeps every frame; the first one is all the check needs (ffmpeg stops on break).
  for await (const f of media.readFrames(source, { fps: info.fps, width: fit.width, height: fit.height, startS })) {
    frame = f;
    break;
  }
  if (!frame) throw new Error(`no frame in ${source} at ${startS} s`);
  return { x: { data: spec.toTensor(frame, fit), dims: [1, 3, spec.inputHeight, spec.inputWidth] }, fit, width: info.width, height: info.height };
}
