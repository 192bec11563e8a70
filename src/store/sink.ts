import type { ContentSink, ObjectWriter } from '../model.js';
import { blake3 } from './hash.js';

/** A sink that only names content (for `inspect`): nothing is stored. */
export function hashOnlySink(): ContentSink {
  return {
    open(): ObjectWriter {
      const h = blake3();
      return {
        write(chunk) {
          h.update(chunk);
        },
        async close() {
          return h.hex();
        },
        async abort() {},
      };
    },
  };
}

/** A sink that keeps content in memory, keyed by object id (tests, small tools). */
export function memorySink(): ContentSink & { objects: Map<string, Buffer> } {
  const objects = new Map<string, Buffer>();
  return {
    objects,
    open(): ObjectWriter {
      const h = blake3();
      const parts: Buffer[] = [];
      return {
        write(chunk) {
          h.update(chunk);
          parts.push(Buffer.from(chunk));
        },
        async close() {
          const id = h.hex();
          if (!objects.has(id)) objects.set(id, Buffer.concat(parts));
          return id;
        },
        async abort() {},
      };
    },
  };
}
