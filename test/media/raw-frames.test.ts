import { describe, expect, it } from 'vitest';
import { commonFrameSize, RawFrameSplitter, rgb24FrameBytes } from '../../src/media/raw-frames.js';

function bytes(count: number, start = 0): Uint8Array {
  return Uint8Array.from({ length: count }, (_, i) => (start + i) % 256);
}

describe('RawFrameSplitter', () => {
  const width = 4;
  const height = 2;
  const frameBytes = rgb24FrameBytes(width, height); // 24

  it('yields whole frames from chunks that straddle frame boundaries', () => {
    const stream = bytes(frameBytes * 3);
    const splitter = new RawFrameSplitter(width, height);
    const frames = [
      ...splitter.push(stream.subarray(0, 10)),
      ...splitter.push(stream.subarray(10, 50)),
      ...splitter.push(stream.subarray(50, 51)),
      ...splitter.push(stream.subarray(51)),
    ];
    splitter.finish();
    expect(frames).toHaveLength(3);
    frames.forEach((frame, i) => {
      expect(frame).toMatchObject({ width, height });
      expect(Array.from(frame.data)).toEqual(Array.from(stream.subarray(i * frameBytes, (i + 1) * frameBytes)));
    });
  });

  it('splits one chunk holding several frames, each frame with its own buffer', () => {
    const splitter = new RawFrameSplitter(width, height);
    const frames = splitter.push(bytes(frameBytes * 2));
    expect(frames).toHaveLength(2);
    expect(frames[0].data.buffer).not.toBe(frames[1].data.buffer);
  });

  it('rejects a stream that ends mid-frame', () => {
    const splitter = new RawFrameSplitter(width, height);
    splitter.push(bytes(frameBytes + 5));
    expect(() => splitter.finish()).toThrow('raw stream ended mid-frame: 5 of 24 bytes of a 4x2 rgb24 frame');
  });

  it('rejects non-positive sizes', () => {
    expect(() => new RawFrameSplitter(0, 2)).toThrow('frame size must be positive integers, got 0x2');
  });
});

describe('commonFrameSize', () => {
  it('returns the shared size', () => {
    const frame = { width: 2, height: 2, data: new Uint8Array(12) };
    expect(commonFrameSize([frame, frame])).toEqual({ width: 2, height: 2 });
  });

  it('names the frame that differs', () => {
    const a = { width: 2, height: 2, data: new Uint8Array(12) };
    const b = { width: 4, height: 2, data: new Uint8Array(24) };
    expect(() => commonFrameSize([a, b])).toThrow('frame 1 is 4x2, expected 2x2 like frame 0');
    expect(() => commonFrameSize([{ ...a, data: new Uint8Array(11) }])).toThrow('frame 0 holds 11 bytes, expected 12');
    expect(() => commonFrameSize([])).toThrow('expected at least one frame, got none');
  });
});
