import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FfprobeData } from 'fluent-ffmpeg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFfmpegMedia } from '../../src/media/ffmpeg.js';
import { parseRate, videoInfoFromProbe } from '../../src/media/media-info.js';
import { DASHCAM, HIGHWAY, missingFootage } from '../support/footage.js';

function probeData(stream: Record<string, unknown>, duration: unknown = 2): FfprobeData {
  return { streams: [stream], format: { duration }, chapters: [] } as unknown as FfprobeData;
}

describe('videoInfoFromProbe', () => {
  const stream = { codec_type: 'video', codec_name: 'h264', width: 640, height: 360, avg_frame_rate: '30000/1001', nb_frames: '60' };

  it('reads size, rate, duration, codec and frame count', () => {
    const info = videoInfoFromProbe(probeData(stream), 'a.mp4');
    expect(info).toEqual({ width: 640, height: 360, fps: 30000 / 1001, durationS: 2, codec: 'h264', frameCount: 60 });
  });

  it('reports live sources without duration as Infinity and falls back to r_frame_rate', () => {
    const info = videoInfoFromProbe(probeData({ ...stream, avg_frame_rate: '0/0', r_frame_rate: '25/1' }, 'N/A'), 'rtsp://cam');
    expect(info.durationS).toBe(Infinity);
    expect(info.fps).toBe(25);
  });

  it('swaps width and height for quarter-turn rotated video', () => {
    const rotated = { ...stream, side_data_list: [{ side_data_type: 'Display Matrix', rotation: -90 }] };
    expect(videoInfoFromProbe(probeData(rotated), 'phone.mp4')).toMatchObject({ width: 360, height: 640 });
  });

  it('says when there is no video stream', () => {
    expect(() => videoInfoFromProbe(probeData({ codec_type: 'audio' }), 'song.m4a')).toThrow(
      'no video stream in song.m4a (streams: audio)',
    );
  });

  it('parses rates', () => {
    expect(parseRate('25/1')).toBe(25);
    expect(parseRate('0/0')).toBeUndefined();
    expect(parseRate(undefined)).toBeUndefined();
  });
});

describe.skipIf(missingFootage(HIGHWAY, DASHCAM))('probe (real ffprobe)', () => {
  const media = createFfmpegMedia();
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'probe-test-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('describes the shared footage', async () => {
    expect(await media.probe(HIGHWAY)).toMatchObject({ width: 320, height: 240, fps: 25, codec: 'mpeg4' });
    const dashcam = await media.probe(DASHCAM);
    expect(dashcam).toMatchObject({ width: 960, height: 540, fps: 25, codec: 'h264' });
    expect(dashcam.durationS).toBeCloseTo(8.8, 0);
  });

  it('says when the file does not exist', async () => {
    const path = join(dir, 'absent.mp4');
    await expect(media.probe(path)).rejects.toThrow(`video not found: ${path}`);
  });

  it('says when a file is not video, quoting ffprobe', async () => {
    const path = join(dir, 'notes.mp4');
    await writeFile(path, 'these are meeting notes, not a video\n');
    await expect(media.probe(path)).rejects.toThrow(new RegExp(`^not a readable video: ${path} \\(ffprobe: .+\\)$`));
  });

  it('says when a media file has no video stream', async () => {
    const path = join(dir, 'tone.m4a');
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=0.3', path]);
    await expect(media.probe(path)).rejects.toThrow(`no video stream in ${path} (streams: audio)`);
  });

  it('names the missing ffprobe binary', async () => {
    const broken = createFfmpegMedia({ ffprobePath: join(dir, 'no-such-ffprobe') });
    await expect(broken.probe(HIGHWAY)).rejects.toThrow(/^ffprobe not found at /);
  });
});
