import { describe, expect, it } from 'vitest';
import { auditKey, padSeq, parseS3Url, parseStreamKey, probeKey, resultsKey, segmentKey, segmentsPrefix } from '../../src/storage/keys.js';

describe('key layout', () => {
  it('puts each stream object under streams/{id}/ with a zero-padded seq', () => {
    expect(segmentKey('cam-1', 7)).toBe('streams/cam-1/segments/000007.mp4');
    expect(probeKey('cam-1', 7)).toBe('streams/cam-1/probes/000007.json');
    expect(resultsKey('cam-1', 123456)).toBe('streams/cam-1/results/123456.jsonl');
    expect(auditKey('cam-1', 0)).toBe('streams/cam-1/audit/000000.mp4');
    expect(segmentsPrefix('cam-1')).toBe('streams/cam-1/segments/');
  });

  it('sorts lexicographically in stream order', () => {
    const keys = [10, 9, 100, 1].map((seq) => segmentKey('s', seq));
    expect([...keys].sort()).toEqual([1, 9, 10, 100].map((seq) => segmentKey('s', seq)));
  });

  it('rejects ids and seqs that would break the layout', () => {
    expect(() => segmentKey('a/b', 1)).toThrow('stream id must be letters, digits');
    expect(() => segmentKey('', 1)).toThrow('stream id must be');
    expect(() => padSeq(-1)).toThrow('segment seq must be a non-negative integer, got -1');
    expect(() => padSeq(1.5)).toThrow('segment seq must be a non-negative integer');
  });

  it('parses keys back', () => {
    expect(parseStreamKey('streams/cam-1/segments/000042.mp4')).toEqual({ streamId: 'cam-1', kind: 'segments', seq: 42 });
    expect(parseStreamKey('streams/cam-1/results/000042.jsonl')).toEqual({ streamId: 'cam-1', kind: 'results', seq: 42 });
    expect(parseStreamKey('streams/cam-1/segments/000042.jsonl')).toBeUndefined();
    expect(parseStreamKey('elsewhere/000042.mp4')).toBeUndefined();
  });
});

describe('parseS3Url', () => {
  it('splits bucket and prefix', () => {
    expect(parseS3Url('s3://archive/2024/cams/')).toEqual({ bucket: 'archive', prefix: '2024/cams/' });
    expect(parseS3Url('s3://archive')).toEqual({ bucket: 'archive', prefix: '' });
    expect(parseS3Url('s3://archive/')).toEqual({ bucket: 'archive', prefix: '' });
  });

  it('says what a valid URL looks like', () => {
    expect(() => parseS3Url('/data/videos')).toThrow('expected an S3 URL like s3://bucket/prefix, got "/data/videos"');
    expect(() => parseS3Url('s3://Bad_Bucket/x')).toThrow('invalid bucket name "Bad_Bucket"');
  });
});
