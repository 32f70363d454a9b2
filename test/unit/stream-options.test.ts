import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { isPermanent } from '../../src/errors.js';
import { DEFAULT_SPACES, parseSpaces } from '../../src/knobs/space.js';
import { COCO_CLASSES } from '../../src/models/coco.js';
import { yoloxSpec } from '../../src/models/yolox.js';
import { assertStreamId, streamIdFor } from '../../src/records/stream-id.js';
import { compileStream, streamDefaults } from '../../workers/ingest/stream-options.js';

const info = { width: 768, height: 432, fps: 25, durationS: 30, codec: 'h264' };
const model = yoloxSpec({ name: 'yolox-nano', path: '/models/yolox_nano.onnx', size: 416, classNames: [...COCO_CLASSES] });
const compile = (env: Record<string, string>, req: Parameters<typeof compileStream>[0] = { source: '/v/cam.mp4' }, live = false) =>
  compileStream(req, streamDefaults(loadConfig(env)), info, model, live);

describe('stream options: request → configured defaults → compiled', () => {
  it('ONEADAPT_POLICY is the policy of a stream started without one; a request overrides it', () => {
    expect(compile({}).meta.policy).toBe('oneadapt:target-f1=0.9');
    expect(compile({ ONEADAPT_POLICY: 'fixed:qp=36' }).meta.policy).toBe('fixed:qp=36');
    expect(compile({ ONEADAPT_POLICY: 'fixed:qp=36' }).initialKnobs.qp).toBe(36);
    expect(compile({ ONEADAPT_POLICY: 'fixed:qp=36' }, { source: 'x.mp4', policy: 'fixed:qp=40' }).initialKnobs.qp).toBe(40);
  });

  it('ONEADAPT_PROBE_EVERY sets the probe period of gradient policies only', () => {
    expect(compile({ ONEADAPT_POLICY: 'oneadapt', ONEADAPT_PROBE_EVERY: '3' }).plan.probeEvery).toBe(3);
    expect(compile({ ONEADAPT_POLICY: 'oneadapt' }).plan.probeEvery).toBe(1);
    expect(compile({ ONEADAPT_POLICY: 'oneadapt', ONEADAPT_PROBE_EVERY: '3' }, { source: 'x.mp4', probeEvery: 2 }).plan.probeEvery).toBe(2);
    expect(compile({ ONEADAPT_POLICY: 'fixed:', ONEADAPT_PROBE_EVERY: '3' }).plan.probeEvery).toBe(0);
  });

  it('ONEADAPT_SEGMENT_SECONDS and ONEADAPT_ANALYSIS_FPS shape the segments and the fps ladder', () => {
    const c = compile({ ONEADAPT_SEGMENT_SECONDS: '2', ONEADAPT_ANALYSIS_FPS: '5' });
    expect([c.meta.segmentSeconds, c.meta.analysisFps, c.plan.segmentSeconds, c.plan.analysisFps]).toEqual([2, 5, 2, 5]);
    // Frame rates above the analysis rate cannot be kept: the default ladder starts at it.
    expect(c.meta.spaces.fps).toEqual([5, 4, 2]);
    expect(() => compile({ ONEADAPT_ANALYSIS_FPS: '5' }, { source: 'x.mp4', spaces: DEFAULT_SPACES })).toThrow(/levels above the analysis rate \(5 fps\).*10, 8, 6/);
  });

  it('ONEADAPT_MODEL is the model a stream records when the request names none', () => {
    expect(streamDefaults(loadConfig({ ONEADAPT_MODEL: 'fastestdet' })).model).toBe('fastestdet');
    expect(compile({}).meta.model).toBe('yolox-nano');
  });

  it('stores the knob ladders in the stream metadata on every path', () => {
    const spaces = parseSpaces('qp=20,30,40;fps=10,5');
    const c = compile({}, { source: 'x.mp4', spaces });
    expect(c.meta.spaces).toEqual(spaces);
    expect(c.plan.spaces).toEqual(spaces);
    expect(compile({}).meta.spaces).toEqual(DEFAULT_SPACES);
  });

  it('waits for updates on files and not on live URLs unless told', () => {
    expect(compile({}).plan.lockstep).toBe(true);
    expect(compile({}, { source: 'rtsp://cam/1' }, true).plan.lockstep).toBe(false);
    expect(compile({}, { source: 'rtsp://cam/1', lockstep: true }, true).plan.lockstep).toBe(true);
  });

  it('refuses counts that are not whole numbers, with what came', () => {
    for (const [key, value] of [['auditEvery', -1], ['probeEvery', 0], ['maxSegments', 1.5], ['auditEvery', Number.NaN]] as const) {
      let err: unknown;
      try {
        compile({}, { source: 'x.mp4', [key]: value });
      } catch (e) {
        err = e;
      }
      expect(err, `${key}=${value}`).toBeInstanceOf(Error);
      expect(isPermanent(err)).toBe(true);
      expect((err as Error).message).toMatch(new RegExp(`must be an integer ≥ \\d, got ${value}`));
    }
  });

  it('records the archive it came from, not the temp copy it reads', () => {
    const c = compile({}, { source: '/tmp/copy/a.mp4', origin: 's3://b/archive/a.mp4', streamId: 'a-1' });
    expect([c.meta.source, c.plan.source, c.meta.streamId]).toEqual(['s3://b/archive/a.mp4', '/tmp/copy/a.mp4', 'a-1']);
  });
});

describe('credentials', () => {
  it('never reach the stream record, its id or a configuration error', () => {
    const c = compile({}, { source: 'rtsp://admin:s3cret@cam.local:554' }, true);
    expect(c.meta.source).toBe('rtsp://admin:***@cam.local:554');
    expect(c.plan.source).toBe('rtsp://admin:s3cret@cam.local:554');
    expect(c.meta.streamId).not.toMatch(/s3cret|admin/);
    expect(() => loadConfig({ REDIS_URL: 'redis://u:hunter2@' })).toThrow(/REDIS_URL="redis:\/\/u:\*\*\*@"/);
    expect(() => loadConfig({ S3_SECRET_ACCESS_KEY: 'hunter2' })).not.toThrow(/hunter2/);
    expect(() => loadConfig({ S3_BUCKET: 'UPPER', S3_SECRET_ACCESS_KEY: 'x', S3_ACCESS_KEY_ID: 'y' })).toThrow(/S3_BUCKET="UPPER"/);
  });
});

describe('the stream-id rule', () => {
  it('maps any file name to a valid id', () => {
    for (const name of ['日本.mkv', '_clip.mp4', '.hidden.avi', 'a b (1).mp4', 'rtsp://user@cam:554/live/1', '', '---.mp4']) {
      const id = streamIdFor(name, 'abc123');
      expect(() => assertStreamId(id), `${name} → ${id}`).not.toThrow();
      expect(id.endsWith('-abc123')).toBe(true);
    }
    expect(streamIdFor('/x/highway-320x240.avi', 'f00')).toBe('highway-320x240-f00');
    expect(streamIdFor('日本.mkv', 'f00')).toBe('stream-f00');
  });

  it('refuses ids that would break keys and job ids, saying what is allowed', () => {
    for (const bad of ['_x', 'a:b', 'a/b', '', 'x'.repeat(129)]) expect(() => assertStreamId(bad)).toThrow(/a letter or digit, then letters, digits/);
  });
});
