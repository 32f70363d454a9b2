import { beforeAll, describe, expect, it } from 'vitest';
import { encodeSettings, encodedKnobs } from '../../src/knobs/encode.js';
import { macroblockGrid } from '../../src/knobs/macroblocks.js';
import { encodeRoiMask } from '../../src/knobs/roi.js';
import { DEFAULT_SPACES, referenceSetting } from '../../src/knobs/space.js';
import { createFfmpegMedia } from '../../src/media/ffmpeg.js';
import type { RawFrame } from '../../src/media/types.js';
import { computeProbe } from '../../workers/ingest/compute-probe.js';
import { HIGHWAY, missingFootage } from '../support/footage.js';

const media = createFfmpegMedia();
const sum = (xs: number[], pick: (i: number) => boolean = () => true) => xs.reduce((s, v, i) => (pick(i) ? s + v : s), 0);

describe.skipIf(missingFootage(HIGHWAY))('InputGrad probe at the ingest (real ffmpeg)', () => {
  let frames: RawFrame[];
  const grid = macroblockGrid(320, 240);
  // The region: the lower half of the picture (macroblock rows 8..14 of 15).
  const inRegion = (i: number) => Math.floor(i / grid.cols) >= 8;
  const mask = encodeRoiMask(Uint8Array.from({ length: grid.cols * grid.rows }, (_, i) => (inRegion(i) ? 1 : 0)));

  beforeAll(async () => {
    frames = [];
    for await (const f of media.readFrames(HIGHWAY, { fps: 10, durationS: 1 })) frames.push(f);
  });

  const probeAt = async (knobs: ReturnType<typeof encodedKnobs>, only?: ('qp' | 'resolution' | 'fps' | 'roi')[]) => {
    const current = await media.encodeFrames(frames, 10, encodeSettings(knobs, 320, 240));
    return computeProbe(media, { seq: 0, frames, inputFps: 10, current: knobs, currentData: current.data, spaces: DEFAULT_SPACES, sourceWidth: 320, sourceHeight: 240, knobs: only });
  };

  it('encodes one cheaper variant per knob, each costlier in distortion and cheaper in bytes', async () => {
    const { probe, ms } = await probeAt(encodedKnobs({ ...referenceSetting(), qp: 24 }, 320, 240));
    expect(ms).toBeGreaterThan(0);
    // No region yet: nothing to probe for roi.
    expect(Object.keys(probe.cheaper).sort()).toEqual(['fps', 'qp', 'resolution']);
    expect(probe.current.distortion).toHaveLength(grid.cols * grid.rows);
    expect(probe.refBytes).toBeGreaterThan(probe.current.bytes);
    for (const v of Object.values(probe.cheaper)) {
      expect(v!.bytes).toBeLessThan(probe.current.bytes);
      expect(sum(v!.distortion)).toBeGreaterThan(sum(probe.current.distortion));
    }
    expect(probe.cheaper.qp).toMatchObject({ qp: 28, resolution: 1, fps: 10, roi: 0 });
  });

  it('probes roi with the region: the damage lands outside it', async () => {
    const { probe } = await probeAt(encodedKnobs({ ...referenceSetting(), qp: 24 }, 320, 240, mask));
    const roi = probe.cheaper.roi!;
    expect(roi).toMatchObject({ qp: 24, roi: 4 });
    expect(roi.bytes).toBeLessThan(probe.current.bytes);
    const outside = sum(roi.distortion, (i) => !inRegion(i)) - sum(probe.current.distortion, (i) => !inRegion(i));
    const inside = sum(roi.distortion, inRegion) - sum(probe.current.distortion, inRegion);
    expect(outside).toBeGreaterThan(0);
    expect(Math.abs(inside)).toBeLessThan(outside / 4);
  });

  it('probes only the knobs the policy adapts', async () => {
    const { probe } = await probeAt(encodedKnobs({ ...referenceSetting(), qp: 24 }, 320, 240, mask), ['qp', 'roi']);
    expect(Object.keys(probe.cheaper).sort()).toEqual(['qp', 'roi']);
  });
});
