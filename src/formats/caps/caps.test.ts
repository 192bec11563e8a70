import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CAP_NAMES, decodeCaps, encodeCaps } from './caps.js';

/** libcap text as written → as cap_to_text prints it back (checked with setcap/getcap 2.66) */
const TEXTS: [string, string][] = [
  ['cap_net_raw=ep', 'cap_net_raw=ep'],
  ['cap_net_raw,cap_net_admin=ep', 'cap_net_admin,cap_net_raw=ep'],
  ['cap_sys_admin=i', 'cap_sys_admin=i'],
  ['cap_net_bind_service+ep', 'cap_net_bind_service=ep'],
  ['=ep', '=ep'],
  ['cap_sys_admin,cap_chown=p', 'cap_chown,cap_sys_admin=p'],
  ['cap_checkpoint_restore=ep', 'cap_checkpoint_restore=ep'],
  ['=p cap_kill-p', '=p cap_kill-p'],
];

const tool = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const haveTools = tool('setcap') && tool('getcap') && tool('getfattr');

describe('file capabilities', () => {
  it.each(TEXTS)('%s round-trips to %s', (text, canonical) => {
    expect(decodeCaps(encodeCaps(text))).toBe(canonical);
  });

  it('names every capability bit once', () => {
    expect(new Set(CAP_NAMES).size).toBe(CAP_NAMES.length);
    expect(CAP_NAMES[0]).toBe('chown');
    expect(CAP_NAMES[40]).toBe('checkpoint_restore');
  });

  it('refuses what is not a capability xattr or text', () => {
    expect(decodeCaps(new Uint8Array(3))).toBeNull();
    expect(decodeCaps(new Uint8Array(20))).toBeNull(); // revision 0
    expect(() => encodeCaps('cap_nope=ep')).toThrow(/Unknown capability cap_nope/);
    expect(() => encodeCaps('cap_net_raw=x')).toThrow(/Cannot parse file capabilities/);
  });

  it.skipIf(!haveTools)('encodes what setcap writes and decodes it as getcap prints it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'weld-caps-'));
    try {
      const f = path.join(dir, 'f');
      writeFileSync(f, '');
      for (const [text, canonical] of TEXTS) {
        expect(spawnSync('setcap', [text, f]).status).toBe(0);
        const written = spawnSync('getfattr', ['--only-values', '-n', 'security.capability', f]).stdout;
        expect(Buffer.from(encodeCaps(text)).toString('hex')).toBe(written.toString('hex'));
        expect(decodeCaps(written)).toBe(canonical);
        expect(spawnSync('getcap', [f]).stdout.toString().trim()).toBe(`${f} ${canonical}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
