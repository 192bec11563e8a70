import { concatBytes } from '../util/bytes.js';
/**
 * Deterministic mutations. Every mutant is a pure function of (seed,
 * iteration, seed inputs), so any crash is reproduced by its two numbers,
 * and a runner that had to kill a hung worker can rebuild the input.
 */

/** mulberry32: small, fast, good enough to pick offsets. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One independent stream per (seed, iteration): splitmix-style mixing of both. */
export function rngFor(seed: number, iteration: number): Rng {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(iteration + 0x632be5ab, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return new Rng(mulberry32(h ^ (h >>> 16)));
}

export class Rng {
  constructor(private readonly next: () => number) {}
  /** integer in [0, n) */
  int(n: number): number {
    return n <= 0 ? 0 : Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  /** offsets favour the first 4 KiB, where headers and length fields live */
  offset(len: number): number {
    return this.chance(0.6) ? this.int(Math.min(len, 4096)) : this.int(len);
  }
}

const INTERESTING_8 = [0x00, 0xff, 0x7f, 0x80, 0x01, 0x30, 0x39, 0x20];
const INTERESTING_32 = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 0x1000000, 4096, 65536 * 16];

export type Mutation =
  | 'bitflip' | 'byte' | 'int32' | 'truncate' | 'duplicate' | 'delete' | 'splice' | 'length' | 'ascii-number';
export const MUTATIONS: readonly Mutation[] = ['bitflip', 'byte', 'int32', 'truncate', 'duplicate', 'delete', 'splice', 'length', 'ascii-number'];

function isDigit(c: number, hex: boolean): boolean {
  return (c >= 0x30 && c <= 0x39) || (hex && ((c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46)));
}

/** Applies one mutation; returns a new buffer (inputs are never modified). */
export function mutateOnce(input: Uint8Array, kind: Mutation, rng: Rng, other: Uint8Array): Uint8Array {
  const len = input.length;
  if (len === 0) return kind === 'splice' ? other.slice(0, rng.int(other.length + 1)) : new Uint8Array([rng.pick(INTERESTING_8)]);
  const out = Uint8Array.from(input);
  const view = new DataView(out.buffer);
  switch (kind) {
    case 'bitflip': {
      for (let n = 1 + rng.int(8); n > 0; n--) {
        const at = rng.offset(len);
        out[at]! ^= 1 << rng.int(8);
      }
      return out;
    }
    case 'byte': {
      out[rng.offset(len)] = rng.pick(INTERESTING_8);
      return out;
    }
    case 'int32': {
      if (len < 4) return out;
      const at = rng.offset(len - 3) & ~3;
      view.setUint32(at, rng.pick(INTERESTING_32), rng.chance(0.7)); // rpm is big-endian, cpio/ar are text
      return out;
    }
    case 'truncate':
      return out.slice(0, rng.offset(len));
    case 'duplicate': {
      const from = rng.offset(len);
      const n = 1 + rng.int(Math.min(len - from, 1024));
      const at = rng.offset(len);
      return concatBytes([out.subarray(0, at), out.subarray(from, from + n), out.subarray(at)]);
    }
    case 'delete': {
      const from = rng.offset(len);
      const n = 1 + rng.int(Math.min(len - from, 1024));
      return concatBytes([out.subarray(0, from), out.subarray(from + n)]);
    }
    case 'splice': {
      const a = rng.offset(len);
      const b = rng.int(other.length + 1);
      return concatBytes([out.subarray(0, a), other.subarray(b)]);
    }
    case 'length': {
      // nudge a big-endian word that looks like a length or count
      if (len < 4) return out;
      for (let tries = 0; tries < 16; tries++) {
        const at = rng.offset(len - 3) & ~3;
        const v = view.getUint32(at);
        if (v === 0 || v > len * 4) continue;
        const nv = rng.pick([v + 1, v - 1, v + 4, v - 4, v * 2, v + 16, v >>> 1, v + len, 0xffffffff - v]);
        view.setUint32(at, nv >>> 0);
        return out;
      }
      // nothing looked like a length: make one
      view.setUint32(rng.offset(len - 3) & ~3, rng.int(len * 2) + 1);
      return out;
    }
    case 'ascii-number': {
      // cpio (8 hex digits) and ar/tar (decimal, octal) keep sizes as text
      const start = rng.offset(len);
      let i = start;
      while (i < len && !isDigit(out[i]!, true)) i++;
      if (i >= len) return out;
      let j = i;
      while (j < len && j - i < 12 && isDigit(out[j]!, true)) j++;
      const choice = rng.int(4);
      for (let k = i; k < j; k++) {
        const digit = choice === 0 ? 0x30 : choice === 1 ? 0x39 : choice === 2 ? 0x66 : 0x30 + rng.int(10);
        out[k] = digit;
      }
      if (choice === 3 && j - 1 >= i) out[j - 1] = 0x31 + rng.int(9);
      return out;
    }
  }
}


/** The mutant for one iteration: a seed input with 1–4 stacked mutations. */
export function mutantFor(seed: number, iteration: number, seeds: readonly Uint8Array[]): { input: Uint8Array; from: number; mutations: Mutation[] } {
  if (seeds.length === 0) return { input: new Uint8Array(0), from: -1, mutations: [] };
  const rng = rngFor(seed, iteration);
  const from = rng.int(seeds.length);
  let input = seeds[from]!;
  const mutations: Mutation[] = [];
  for (let n = 1 + rng.int(4); n > 0; n--) {
    const kind = rng.pick(MUTATIONS);
    mutations.push(kind);
    input = mutateOnce(input, kind, rng, seeds[rng.int(seeds.length)]!);
  }
  return { input, from, mutations };
}
