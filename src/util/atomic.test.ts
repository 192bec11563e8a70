import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isWeldError } from '../errors.js';
import { placeAtomic, removeStaleTemps, withAtomicFile, writeFileAtomic } from './atomic.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weld-atomic-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const left = () => fs.readdirSync(dir).filter((n) => n.includes('.weld-'));

describe('atomic writes', () => {
  it('replaces a file and leaves no temp', () => {
    const f = path.join(dir, 'a');
    fs.writeFileSync(f, 'old');
    writeFileAtomic(f, 'new', { fsync: true });
    expect(fs.readFileSync(f, 'utf8')).toBe('new');
    expect(left()).toEqual([]);
  });
  it('keeps the old file when the body fails, and removes the temp', async () => {
    const f = path.join(dir, 'b');
    fs.writeFileSync(f, 'old');
    await expect(
      withAtomicFile(f, (fd) => {
        fs.writeSync(fd, 'half');
        throw new Error('body failed');
      }),
    ).rejects.toThrow('body failed');
    expect(fs.readFileSync(f, 'utf8')).toBe('old');
    expect(left()).toEqual([]);
  });
  it('places a file a tool writes, and names the file in an io error', () => {
    const f = path.join(dir, 'c');
    placeAtomic(f, (tmp) => fs.writeFileSync(tmp, 'made'));
    expect(fs.readFileSync(f, 'utf8')).toBe('made');
    let e: unknown;
    try {
      writeFileAtomic(path.join(dir, 'no/such/dir/d'), 'x');
    } catch (x) {
      e = x;
    }
    expect(isWeldError(e) && e.kind === 'io' && e.message).toMatch(/^Cannot write .*no\/such\/dir\/d: ENOENT/);
  });
  it('removes the temps of dead processes only', () => {
    const f = path.join(dir, 'e');
    // pid 2^22+1 is above Linux's pid_max limit, so it is never alive
    const dead = path.join(dir, `.e.weld-${2 ** 22 + 1}`);
    const live = path.join(dir, `.e.weld-${process.pid}.7`);
    fs.writeFileSync(dead, '');
    fs.writeFileSync(live, '');
    removeStaleTemps(f);
    expect(fs.existsSync(dead)).toBe(false);
    expect(fs.existsSync(live)).toBe(true);
    fs.rmSync(live);
  });
});
