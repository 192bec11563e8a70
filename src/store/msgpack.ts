import { createRequire } from 'node:module';
import type { Packr } from 'msgpackr';

const require = createRequire(import.meta.url);

// records: each object shape's keys are written once per blob, not once per file.
// Loaded on first use, without its native string extractor: that costs ~35 ms of
// start-up against ~19 ms without it, and file lists are columns, not many small strings.
let packr: Packr | null = null;
const codec = (): Packr => {
  if (packr) return packr;
  process.env.MSGPACKR_NATIVE_ACCELERATION_DISABLED ??= 'true';
  return (packr = new (require('msgpackr') as typeof import('msgpackr')).Packr({ useRecords: true, moreTypes: false }));
};

/** The catalog's blobs (headers, file lists) as msgpack. */
export const pack = (v: unknown): Buffer => codec().pack(v);
export const unpack = (b: Buffer): unknown => codec().unpack(b);
