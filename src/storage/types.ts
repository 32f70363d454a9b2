/** The one port to object storage. Keys are plain strings; see keys.ts for the layout. */
export interface ObjectStore {
  readonly bucket: string;
  /** Creates the bucket unless it exists (idempotent). */
  ensureBucket(): Promise<void>;
  put(key: string, body: Buffer | string, contentType?: string): Promise<void>;
  /** Rejects with "object not found: s3://bucket/key" when absent. */
  get(key: string): Promise<Buffer>;
  getIfExists(key: string): Promise<Buffer | undefined>;
  /** Every key under `prefix`, in lexicographic order, fetched page by page. */
  list(prefix: string, opts?: { pageSize?: number }): AsyncIterable<string>;
  /** Removes the object; absent keys are not an error. */
  delete(key: string): Promise<void>;
}
