import type { MediaPort, RawFrame } from './types.js';

interface Pending {
  data: Buffer;
  resolve: (frames: RawFrame[]) => void;
  reject: (err: Error) => void;
}

/**
 * Coalesces concurrent segment decodes of one size into one ffmpeg process: starting ffmpeg
 * costs more than decoding a 1-s segment, so a worker holding several jobs decodes them
 * together. No timers: whatever queued while a decode ran goes in the next one.
 */
export class DecodeBatcher {
  private queues = new Map<string, Pending[]>();
  private running = new Set<string>();

  constructor(
    private readonly media: MediaPort,
    private readonly maxBatch = 8,
  ) {}

  decode(data: Buffer, size: { width: number; height: number }): Promise<RawFrame[]> {
    const key = `${size.width}x${size.height}`;
    return new Promise((resolve, reject) => {
      const q = this.queues.get(key) ?? [];
      q.push({ data, resolve, reject });
      this.queues.set(key, q);
      if (!this.running.has(key)) void this.drain(key, size);
    });
  }

  private async drain(key: string, size: { width: number; height: number }): Promise<void> {
    this.running.add(key);
    try {
      for (;;) {
        const q = this.queues.get(key) ?? [];
        if (q.length === 0) return;
        const batch = q.splice(0, this.maxBatch);
        try {
          const out = await this.media.decodeMany(
            batch.map((p) => p.data),
            size,
          );
          batch.forEach((p, i) => p.resolve(out[i]));
        } catch (err) {
          // One bad segment fails the whole process: retry each alone so only it fails.
          if (batch.length === 1) batch[0].reject(err instanceof Error ? err : new Error(String(err)));
          else
            for (const p of batch) {
              await this.media.decodeMany([p.data], size).then(
                ([frames]) => p.resolve(frames),
                (e: unknown) => p.reject(e instanceof Error ? e : new Error(String(e))),
              );
            }
        }
      }
    } finally {
      this.running.delete(key);
    }
  }
}
