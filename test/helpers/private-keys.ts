import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * A whole PEM private key: the header, base64 lines (after RFC 1421 headers such
 * as Proc-Type: of an encrypted key), and the matching footer. Programs that
 * write keys (ssh-keygen, libcrypto) carry the header alone as a string, which
 * is not key material.
 */
const PEM_KEY = /-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY-----\r?\n(?:[A-Za-z-]+: [^\n]*\r?\n)*(?:\r?\n)?(?:[A-Za-z0-9+/=]+\r?\n)+-----END \1PRIVATE KEY-----/;
/** PuTTY's format, which has no PEM armour */
const PUTTY_KEY = /PuTTY-User-Key-File-\d: [^\n]+\n[\s\S]{0,4096}Private-Lines: \d+/;
/** file names that are private keys whatever they hold (ssh host keys, ssl-cert's snakeoil key) */
const KEY_NAMES = /^(ssh_host_[a-z0-9]+_key|ssl-cert-snakeoil\.key)$/;

export interface FoundKey {
  path: string;
  why: string;
}

/**
 * Every regular file under a linked directory holding private key material,
 * by name or by content (PEM or PuTTY armour), once per file. Symlinks are not followed.
 */
export async function findPrivateKeys(dir: string): Promise<FoundKey[]> {
  const found: FoundKey[] = [];
  // asynchronous, so a scan of a whole image does not starve the test runner's worker
  const walk = async (rel: string) => {
    const entries = (await fs.readdir(path.join(dir, rel), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      const p = `${rel}/${e.name}`;
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) {
        if (KEY_NAMES.test(e.name)) {
          found.push({ path: p, why: 'named as a private key' });
          continue;
        }
        const b = await fs.readFile(path.join(dir, p));
        // cheap pre-filter before the regular expressions
        for (let i = b.indexOf('PRIVATE KEY-----'); i >= 0; i = b.indexOf('PRIVATE KEY-----', i + 1)) {
          const m = PEM_KEY.exec(b.toString('latin1', Math.max(0, i - 64), i + 16384));
          if (m) {
            found.push({ path: p, why: `PEM ${m[1]}PRIVATE KEY` });
            break;
          }
        }
        if (b.includes('PuTTY-User-Key-File-') && PUTTY_KEY.test(b.toString('latin1'))) found.push({ path: p, why: 'PuTTY private key' });
      }
    }
  };
  await walk('');
  return found;
}
