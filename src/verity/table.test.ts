import { describe, expect, it } from 'vitest';
import { verityTable } from './table.js';
import type { VerityParams } from './format.js';

// the example in the kernel's Documentation/admin-guide/device-mapper/verity.rst
const params: VerityParams = { algorithm: 'sha256', hashType: 1, dataBlockSize: 4096, hashBlockSize: 4096, dataBlocks: 262144, salt: Uint8Array.from(Buffer.from('1234' + '0'.repeat(60), 'hex')) };
const root = '4392712ba01368efdf14b05c76f9e4df0d53664630b5d48632ed17a137f39076';

describe('verityTable', () => {
  it('matches the kernel documentation example', () => {
    expect(verityTable({ params, rootHash: root, dataDevice: '/dev/sda1', hashDevice: '/dev/sda2' })).toBe(
      '0 2097152 verity 1 /dev/sda1 /dev/sda2 4096 4096 262144 1 sha256 4392712ba01368efdf14b05c76f9e4df0d53664630b5d48632ed17a137f39076 1234000000000000000000000000000000000000000000000000000000000000',
    );
  });
  it('counts optional words and writes - for no salt', () => {
    const t = verityTable({ params: { ...params, salt: new Uint8Array(0) }, rootHash: root, dataDevice: '/dev/vda1', hashDevice: '/dev/vda2', options: ['restart_on_corruption', { rootHashSigKeyDesc: 'verity:abc' }] });
    expect(t.endsWith(`${root} - 3 restart_on_corruption root_hash_sig_key_desc verity:abc`)).toBe(true);
  });
  it('refuses two corruption modes and devices with spaces', () => {
    expect(() => verityTable({ params, rootHash: root, dataDevice: 'a', hashDevice: 'b', options: ['restart_on_corruption', 'panic_on_corruption'] })).toThrow(/pick one/);
    expect(() => verityTable({ params, rootHash: root, dataDevice: 'a b', hashDevice: 'b' })).toThrow(/whitespace/);
  });
});
