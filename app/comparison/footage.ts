import path from 'node:path';
import type { MediaPort, RawFrame } from '../../src/media/types.js';

/** A video cut into whole segments of raw frames at the analysis frame rate. */
export interface Footage {
  path: string;
  /** Short name for tables and file names. */
  name: string;
  width: number;
  height: number;
  segments: RawFrame[][];
}

/**
 * Reads `source` at `analysisFps` and cuts it as the ingest does. A trailing partial segment
 * is left out so that every configuration and policy is compared on whole segments.
 */
export async function readFootage(media: MediaPort, source: string, o: { analysisFps: number; segmentSeconds: number; maxSegments?: number }): Promise<Footage> {
  const info = await media.probe(source);
  const slots = Math.max(1, Math.round(o.segmentSeconds * o.analysisFps));
  const segments: RawFrame[][] = [];
  let buffer: RawFrame[] = [];
  const durationS = o.maxSegments !== undefined ? o.maxSegments * o.segmentSeconds + 0.5 : undefined;
  for await (const frame of media.readFrames(source, { fps: o.analysisFps, durationS })) {
    buffer.push(frame);
    if (buffer.length === slots) {
      segments.push(buffer);
      buffer = [];
      if (o.maxSegments !== undefined && segments.length >= o.maxSegments) break;
    }
  }
  if (segments.length === 0) throw new Error(`${source}: shorter than one ${o.segmentSeconds}-s segment; the bench needs at least one whole segment`);
  return { path: source, name: path.basename(source).replace(/\.[^.]+$/, ''), width: info.width, height: info.height, segments };
}
