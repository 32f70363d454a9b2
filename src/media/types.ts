/** One decoded picture: packed RGB24, row-major, `data.length === width * height * 3`. */
export interface RawFrame {
  width: number;
  height: number;
  data: Uint8Array;
}

export interface VideoInfo {
  width: number;
  height: number;
  /** Native frame rate of the source (frames per second). */
  fps: number;
  /** Seconds; `Infinity` for live sources that report no duration. */
  durationS: number;
  codec: string;
}

/** What an encode needs to know: the knobs made concrete (QP, size, frame rate, region-of-interest offsets). */
export interface EncodeSettings {
  /** x264 constant quantiser (0..51). */
  qp: number;
  /** Output size, even numbers. */
  width: number;
  height: number;
  /** Output frame rate within the segment (frames are dropped evenly from the input rate). */
  fps: number;
  /** Macroblocks outside `rects` (encode pixels) get `offset` more QP; absent or offset 0: one QP everywhere. */
  roi?: RoiEncode;
}

export interface RoiEncode {
  offset: number;
  rects: { x: number; y: number; width: number; height: number }[];
}

export interface EncodedSegment {
  /** The encoded file (MP4, H.264). */
  data: Buffer;
  /** Wall-clock milliseconds the encode took. */
  ms: number;
}

/** The one port to ffmpeg. Everything else in the system sees frames and buffers. */
export interface MediaPort {
  probe(source: string): Promise<VideoInfo>;
  /**
   * Decode `source` (file path or URL) to frames resampled to `fps`, optionally scaled.
   * Frames are yielded as they are decoded (works for live sources).
   */
  readFrames(source: string, opts: { fps: number; width?: number; height?: number; startS?: number; durationS?: number }): AsyncIterable<RawFrame>;
  /** Encode frames captured at `inputFps` with the given settings. */
  encodeFrames(frames: RawFrame[], inputFps: number, settings: EncodeSettings): Promise<EncodedSegment>;
  /** Encode the same frames with several settings in one ffmpeg process (the ingest's probe). */
  encodeMany(frames: RawFrame[], inputFps: number, settings: EncodeSettings[]): Promise<Buffer[]>;
  /**
   * Decode several segments, each scaled to width×height, in one ffmpeg process; no container
   * probe, so cheaper than decodeSegment when the size is known (workers, probes).
   */
  decodeMany(segments: Buffer[], size: { width: number; height: number }): Promise<RawFrame[][]>;
  /** decodeMany and scaleFrames in one ffmpeg process (the ingest's probe). */
  decodeAndScale(segments: Buffer[], raw: RawFrame[], size: { width: number; height: number }): Promise<{ decoded: RawFrame[][]; scaled: RawFrame[] }>;
  /** Rescale raw frames with the same scaler the decodes use (one ffmpeg process). */
  scaleFrames(frames: RawFrame[], size: { width: number; height: number }): Promise<RawFrame[]>;
  /** Decode an encoded segment held in memory; optionally scale every frame to width×height. */
  decodeSegment(data: Buffer, opts?: { width?: number; height?: number }): Promise<RawFrame[]>;
}
