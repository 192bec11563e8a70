import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
// @napi-rs/blake-hash: the blake3 npm package does not install from this registry
const { Blake3Hasher } = require('@napi-rs/blake-hash') as {
  Blake3Hasher: new () => { update(d: Uint8Array): unknown; digest(enc?: 'hex'): string | Buffer };
};

export interface Hasher {
  update(data: Uint8Array): void;
  hex(): string;
}

export function blake3(): Hasher {
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
