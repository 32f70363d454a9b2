/**
 * How roles report what they do. A line for people, and the fields a log store indexes
 * (stream, segment, job); the process decides how to write them (app/logging.ts).
 */
export interface LogFields {
  stream?: string;
  seq?: number;
  jobId?: string;
  /** Default info; warn for what an operator should look at, error for lost work. */
  level?: 'debug' | 'info' | 'warn' | 'error';
}

export type Log = (line: string, fields?: LogFields) => void;
