import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerRoleCommands } from '../../app/cli/roles-command.js';
import { registerRunCommand } from '../../app/cli/run-command.js';
import { enqueueArchives } from '../../app/enqueue.js';
import { ingestSource } from '../../app/ingest-source.js';
import { startRoles, type RunningRoles } from '../../app/roles.js';
import { runVideos } from '../../app/run-job.js';
import type { Config } from '../../src/config/config.js';
import type { SegmentRow } from '../../src/records/segment-row.js';
import type { StreamMeta } from '../../src/records/stream.js';
import { HIGHWAY, highwayClip, missingFootage } from '../support/footage.js';
import { missingModel } from '../support/models.js';
import { pipelineConfig } from '../support/pipeline-config.js';

/**
 * The same configuration, set only through the environment, must shape a stream the same
 * way whichever path starts it: `run`, `ingest <source>`, and archive jobs taken by the
 * ingest role of `up`. Each path gets its own ffmpeg/ffprobe wrappers that log every call.
 */
describe.skipIf(missingFootage(HIGHWAY) ?? missingModel('fastestdet'))('configuration reaches every path that starts a stream', () => {
  let dir: string;
  let clip: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'oneadapt-cfg-'));
    // 6 s of the highway camera: three 2-s segments.
    clip = await highwayClip(6);
  });

  async function configFor(label: string): Promise<{ config: Config; calls: () => Promise<string[]> }> {
    const log = path.join(dir, `${label}.log`);
    const wrap = async (binary: string) => {
      const file = path.join(dir, `${label}-${binary}`);
      await writeFile(file, `#!/bin/sh\necho "${binary} $*" >> "${log}"\nexec ${binary} "$@"\n`);
      await chmod(file, 0o755);
      return file;
    };
    const config = pipelineConfig(`cfg-${label}`, {
      ONEADAPT_POLICY: 'oneadapt:knobs=qp',
      ONEADAPT_PROBE_EVERY: '2',
      ONEADAPT_SEGMENT_SECONDS: '2',
      ONEADAPT_ANALYSIS_FPS: '5',
      ONEADAPT_MODEL: 'fastestdet',
      ONEADAPT_FFMPEG_PATH: await wrap('ffmpeg'),
      ONEADAPT_FFPROBE_PATH: await wrap('ffprobe'),
    });
    return { config, calls: async () => (await readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean) };
  }

  function expectConfigured(meta: StreamMeta | undefined, rows: SegmentRow[]): void {
    expect(meta && [meta.policy, meta.model, meta.segmentSeconds, meta.analysisFps, meta.spaces.fps[0]]).toEqual(['oneadapt:knobs=qp', 'fastestdet', 2, 5, 5]);
    expectRows(rows);
  }

  function expectRows(rows: SegmentRow[]): void {
    // 2-s segments at 5 analysis frames per second: 10 slots each.
    expect(rows.map((r) => [r.seq, r.slots, r.error])).toEqual([[0, 10, undefined], [1, 10, undefined], [2, 10, undefined]]);
    // A probe (and gradient sample) every 2nd segment, of the qp knob only.
    expect(rows.map((r) => r.gradients?.map((g) => g.knob))).toEqual([['qp'], undefined, ['qp']]);
  }

  function expectWrappersUsed(calls: string[]): void {
    expect(calls.some((c) => c.startsWith('ffprobe '))).toBe(true);
    // The batched encode of the probe variants and the batched decodes go through it too.
    expect(calls.some((c) => c.startsWith('ffmpeg ') && c.includes('split='))).toBe(true);
    expect(calls.filter((c) => c.startsWith('ffmpeg ')).length).toBeGreaterThan(6);
  }

  it('run', async () => {
    const { config, calls } = await configFor('run');
    const [report] = await runVideos(config, { videos: [clip], log: () => undefined });
    expect([report.policy, report.model, report.totals.durationS]).toEqual(['oneadapt:knobs=qp', 'fastestdet', 6]);
    expectRows(report.perSegment);
    expectWrappersUsed(await calls());
  });

  describe('with a worker and a coordinator running', () => {
    let roles: RunningRoles;
    let calls: () => Promise<string[]>;
    let config: Config;
    beforeAll(async () => {
      ({ config, calls } = await configFor('roles'));
      roles = await startRoles(config, ['worker', 'coordinator', 'ingest'], { log: () => undefined });
    });
    afterAll(async () => roles?.close());

    /** The stream's metadata once every segment it cut has its row. */
    async function finished(streamId: string): Promise<StreamMeta | undefined> {
      let meta = await roles.runtime.streams.meta(streamId);
      for (let i = 0; i < 1200 && (meta?.totalSegments === undefined || (await roles.runtime.streams.rowCount(streamId)) < meta.totalSegments); i++) {
        await new Promise((r) => setTimeout(r, 100));
        meta = await roles.runtime.streams.meta(streamId);
      }
      return meta;
    }

    it('ingest <source>', async () => {
      const s = await ingestSource(config, { source: clip });
      const meta = await finished(s.streamId);
      expectConfigured(meta, await roles.runtime.streams.rows(s.streamId));
      expectWrappersUsed(await calls());
    });

    it('archive jobs (the ingest role of up)', async () => {
      const [s] = await enqueueArchives(roles.runtime, [clip]);
      let meta = await roles.runtime.streams.meta(s.streamId);
      for (let i = 0; i < 1200 && (meta?.totalSegments === undefined || (await roles.runtime.streams.rowCount(s.streamId)) < meta.totalSegments); i++) {
        await new Promise((r) => setTimeout(r, 100));
        meta = await roles.runtime.streams.meta(s.streamId);
      }
      expectConfigured(meta, await roles.runtime.streams.rows(s.streamId));
    });
  });
});

describe('the CLI leaves configured defaults to the configuration', () => {
  it('puts no default of its own on --policy, --model or --probe-every', () => {
    const program = new Command();
    registerRunCommand(program);
    registerRoleCommands(program);
    for (const name of ['run', 'ingest', 'enqueue']) {
      const cmd = program.commands.find((c) => c.name() === name)!;
      for (const flag of ['--policy', '--model', '--probe-every']) {
        const opt = cmd.options.find((o) => o.long === flag);
        expect(opt, `${name} ${flag}`).toBeDefined();
        expect(opt!.defaultValue, `${name} ${flag}`).toBeUndefined();
      }
    }
  });
});
