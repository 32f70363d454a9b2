import type { RawFrame } from './types.js';

/** Bytes in one packed RGB24 frame. */
export function rgb24FrameBytes(width: number, height: number): number {
  return width * height * 3;
}

/**
 * Cuts a raw RGB24 byte stream, arriving in chunks of any size, into whole frames.
 * Each frame gets its own buffer: consumers may keep frames while the stream goes on.
 */
export class RawFrameSplitter {
  private readonly frameBytes: number;
  private current: Uint8Array;
  private filled = 0;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
      throw new Error(`frame size must be positive integers, got ${width}x${height}`);
    }
    this.frameBytes = rgb24FrameBytes(width, height);
    this.current = new Uint8Array(this.frameBytes);
  }

  /** Feeds one chunk; returns the frames it completed (possibly none). */
  push(chunk: Uint8Array): RawFrame[] {
    const frames: RawFrame[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(this.frameBytes - this.filled, chunk.length - offset);
      this.current.set(chunk.subarray(offset, offset + take), this.filled);
      this.filled += take;
      offset += take;
      if (this.filled === this.frameBytes) {
        frames.push({ width: this.width, height: this.height, data: this.current });
        this.current = new Uint8Array(this.frameBytes);
        this.filled = 0;
      }
    }
    return frames;
  }

  /** Call at end of stream: a partial frame means the producer stopped mid-frame. */
  finish(): void {
    if (this.filled !== 0) {
      throw new Error(
        `raw stream ended mid-frame: ${this.filled} of ${this.frameBytes} bytes of a ${this.width}x${this.height} rgb24 frame`,
      );
    }
  }
}

/** Checks that frames share one size and hold exactly width×height×3 bytes; returns that size. */
export function commonFrameSize(frames: readonly RawFrame[]): { width: number; height: number } {
  if (frames.length === 0) throw new Error('expected at least one frame, got none');
  const { width, height } = frames[0];
  frames.forEach((frame, i) => {
    if (frame.width !== width || frame.height !== height) {
      throw new Error(`frame ${i} is ${frame.width}x${frame.height}, expected ${width}x${height} like frame 0`);
    }
    const expected = rgb24FrameBytes(width, height);
    if (frame.data.length !== expected) {
      throw new Error(`frame ${i} holds ${frame.data.length} bytes, expected ${expected} (rgb24 ${width}x${height})`);
    }
  });
  return { width, height };
}
