import type { JobSink } from '../../src/queue/job-sinks.js';

/** A sink that reports each record it handed on (after the add succeeded: nothing counted twice on retry failure). */
export function observedSink<T>(sink: JobSink<T>, observe: (job: T) => void): JobSink<T> {
  return {
    add: async (job) => {
      await sink.add(job);
      observe(job);
    },
  };
}
