import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheRoot } from './cache.js';
import { nativeTool } from '../util/native.js';

const SOURCE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/views/native/weld-helper.c');

/** Path of the views' native helper (unshare, mount(2), pivot_root), built on first use. */
export function helperPath(): string {
  return nativeTool(SOURCE, 'weld-helper', cacheRoot());
}
