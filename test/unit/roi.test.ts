import { describe, expect, it } from 'vitest';
import { encodeSettings, encodedKnobs } from '../../src/knobs/encode.js';
import { macroblockGrid } from '../../src/knobs/macroblocks.js';
import { decodeRoiMask, dilateMask, encodeRoiMask, regionOfInterest, roiMaskFromBoxes, roiRects, salientMask, unionMask } from '../../src/knobs/roi.js';
import { parseSetting, parseSpaces, referenceSetting } from '../../src/knobs/space.js';
import { regionFilters, segmentCodecOptions } from '../../src/media/filters.js';

const cells = (mask: Uint8Array, cols: number) => [...mask.keys()].filter((i) => mask[i]).map((i) => [i % cols, Math.floor(i / cols)]);

describe('region of interest', () => {
  it('marks the macroblocks a padded box touches, clipped to the frame', () => {
    // 64×48 source: 4×3 macroblocks.
    expect(macroblockGrid(64, 48)).toEqual({ cols: 4, rows: 3 });
    expect(macroblockGrid(70, 50)).toEqual({ cols: 5, rows: 4 });
    const mask = roiMaskFromBoxes([[20, 20, 30, 30]], 64, 48, 0);
    expect(cells(mask, 4)).toEqual([[1, 1]]);
    const padded = roiMaskFromBoxes([[20, 20, 30, 30]], 64, 48, 8);
    expect(cells(padded, 4)).toEqual([[0, 0], [1, 0], [2, 0], [0, 1], [1, 1], [2, 1], [0, 2], [1, 2], [2, 2]]);
    // A box ending exactly on a macroblock edge does not spill into the next one.
    expect(cells(roiMaskFromBoxes([[0, 0, 32, 16]], 64, 48, 0), 4)).toEqual([[0, 0], [1, 0]]);
    expect(cells(roiMaskFromBoxes([[50, 40, 500, 400]], 64, 48, 0), 4)).toEqual([[3, 2]]);
    expect(roiMaskFromBoxes([], 64, 48, 8).every((v) => v === 0)).toBe(true);
  });

  it('round-trips the mask through its wire form and rejects a mask of the wrong size', () => {
    const mask = roiMaskFromBoxes([[100, 40, 300, 200]], 960, 540, 8);
    const text = encodeRoiMask(mask);
    expect(text.length).toBeLessThan(400);
    expect(decodeRoiMask(text, mask.length)).toEqual(mask);
    expect(() => decodeRoiMask(text, 12)).toThrow('region-of-interest mask: expected 2 bytes for 12 macroblocks, got 255');
  });

  it('covers the mask with few rectangles, snapped outward on a scaled encode', () => {
    const g = macroblockGrid(64, 48);
    const mask = new Uint8Array(g.cols * g.rows);
    // An L: columns 0–1 on rows 0–1, column 0 on row 2.
    for (const [c, r] of [[0, 0], [1, 0], [0, 1], [1, 1], [0, 2]]) mask[r * g.cols + c] = 1;
    expect(roiRects(mask, 64, 48, 64, 48)).toEqual([
      { x: 0, y: 0, width: 32, height: 32 },
      { x: 0, y: 32, width: 16, height: 16 },
    ]);
    // At half size the same region lands on the encode's own macroblocks, never smaller.
    for (const r of roiRects(mask, 64, 48, 32, 24)) {
      expect(r.x % 16).toBe(0);
      expect(r.y % 16).toBe(0);
      expect(r.x + r.width).toBeLessThanOrEqual(32);
      expect(r.y + r.height).toBeLessThanOrEqual(24);
    }
    expect(roiRects(new Uint8Array(g.cols * g.rows), 64, 48, 64, 48)).toEqual([]);
    expect(() => roiRects(new Uint8Array(5), 64, 48, 64, 48)).toThrow('has 5 macroblocks, expected 12 for 64x48');
  });

  it('encodes with regions only when the knob is above 0 and the stream has a region', () => {
    const mask = encodeRoiMask(roiMaskFromBoxes([[0, 0, 16, 16]], 64, 48, 0));
    const at = (roi: number, m?: string) => encodeSettings(encodedKnobs({ ...referenceSetting(), roi }, 64, 48, m), 64, 48);
    expect(at(0, mask).roi).toBeUndefined();
    expect(at(8).roi).toBeUndefined();
    expect(at(8, mask).roi).toEqual({ offset: 8, rects: [{ x: 0, y: 0, width: 16, height: 16 }] });
    // The region is listed first (first region wins in x264's wrapper), the frame after it.
    expect(regionFilters({ offset: 8, rects: [{ x: 0, y: 0, width: 16, height: 16 }] })).toEqual(['addroi=0:0:16:16:0', 'addroi=0:0:iw:ih:8/51']);
    expect(() => regionFilters({ offset: 60, rects: [] })).toThrow('roi offset must be an integer QP offset in 0..51, got 60');
    expect(segmentCodecOptions(24, 10, true)).toContain('-crf');
    expect(segmentCodecOptions(24, 10)).toContain('-qp');
  });

  it('parses roi settings and ladders with clear errors', () => {
    expect(parseSetting('qp=24,roi=8', referenceSetting())).toMatchObject({ qp: 24, roi: 8 });
    expect(() => parseSetting('roi=-2', referenceSetting())).toThrow('roi must be an integer QP offset 0..25');
    expect(parseSpaces('roi=0,8,16').roi).toEqual([0, 8, 16]);
    expect(() => parseSpaces('roi=8,0')).toThrow('knob space "roi": levels must go from expensive to cheap, got 8, 0');
    expect(() => parseSpaces('roi=0,30')).toThrow('knob space "roi": expected integer QP offsets 0..25, got 0, 30');
  });

  it('keeps the fewest macroblocks holding a share of the saliency, grown for motion', () => {
    const s = Float32Array.from([0, 5, 0, 0, 3, 0, 1, 0, 1, 0, 0, 0]);
    expect([...salientMask(s, 0.5)]).toEqual([0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect([...salientMask(s, 0.8)]).toEqual([0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
    // Ties at the cut are kept together.
    expect([...salientMask(s, 0.85)]).toEqual([0, 1, 0, 0, 1, 0, 1, 0, 1, 0, 0, 0]);
    expect([...salientMask(new Float32Array(12), 0.7)].every((v) => v === 0)).toBe(true);
    const g = { cols: 4, rows: 3 };
    const one = new Uint8Array(12);
    one[0] = 1;
    expect([...dilateMask(one, g, 1)]).toEqual([1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0]);
    expect(dilateMask(one, g, 3).every((v) => v === 1)).toBe(true);
    expect([...unionMask(Uint8Array.from([1, 0, 0]), Uint8Array.from([0, 0, 1]))]).toEqual([1, 0, 1]);
    expect(() => unionMask(new Uint8Array(2), new Uint8Array(3))).toThrow('masks of 2 and 3 macroblocks cannot be joined');
  });

  it('takes the region from the segment\'s objects of interest, plus the salient context when sampled', () => {
    const car = { cls: 2, score: 0.9, box: [20, 20, 30, 30] as [number, number, number, number], index: 0 };
    const chair = { cls: 56, score: 0.9, box: [40, 0, 60, 10] as [number, number, number, number], index: 1 };
    const boxesOnly = regionOfInterest([[car, chair], []], new Set([2]), 64, 48);
    expect([...boxesOnly.keys()].filter((i) => boxesOnly[i])).toEqual([0, 1, 2, 4, 5, 6, 8, 9, 10]);
    // Saliency on the far right column adds it (grown by two macroblocks, clipped to the frame).
    const saliency = new Float32Array(12);
    saliency[7] = 1;
    const withContext = regionOfInterest([[car]], new Set([2]), 64, 48, saliency);
    expect(withContext.every((v) => v === 1)).toBe(true);
  });
});
