import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
type Blake3Ctor = new () => { update(d: Uint8Array): unknown; digest(enc?: 'hex'): string | Buffer };
// @napi-rs/blake-hash: the blake3 npm package does not install from this registry.
// Loaded on first use: a link that writes an image hashes nothing with it.
let Blake3Hasher: Blake3Ctor | undefined;

export interface Hasher {
  update(data: Uint8Array): void;
  hex(): string;
}

export function blake3(): Hasher {
  Blake3Hasher ??= (require('@napi-rs/blake-hash') as { Blake3Hasher: Blake3Ctor }).Blake3Hasher;
  const h = new Blake3Hasher();
  return {
    update(d) {
      h.update(d);
    },
    hex() {
      const v = h.digest('hex');
      return typeof v === 'string' ? v : Buffer.from(v).toString('hex');
    },
  };
}

export function blake3Hex(data: Uint8Array): string {
  const h = blake3();
  h.update(data);
  return h.hex();
}
