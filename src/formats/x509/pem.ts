import { formatError } from '../../errors.js';

/** One PEM block (RFC 7468): its label and decoded bytes. */
export interface PemBlock {
  label: string;
  der: Uint8Array;
  /** byte offset of its BEGIN line */
  offset: number;
}

const MAX_BLOCKS = 4096;
const BEGIN = /^-----BEGIN ([^-]*)-----\s*$/;
const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * The PEM blocks of a text, in order. Text outside blocks is ignored, as
 * OpenSSL's PEM_read_bio skips it; a block without its END line or with bad
 * base64 is a format error naming its offset. RFC 1421 headers
 * (`Proc-Type: …`) before the base64 are skipped.
 */
export function decodePem(data: Uint8Array, format = 'pem'): PemBlock[] {
  const text = Buffer.from(data).toString('latin1');
  const out: PemBlock[] = [];
  let off = 0;
  const lines = text.split('\n').map((l) => {
    const at = off;
    off += l.length + 1;
    return { at, l: l.replace(/\r$/, '') };
  });
  for (let i = 0; i < lines.length; i++) {
    const m = BEGIN.exec(lines[i]!.l);
    if (!m) continue;
    const label = m[1]!;
    const at = lines[i]!.at;
    if (out.length >= MAX_BLOCKS) throw formatError(format, `Cannot read ${format} block at offset ${at}: more than ${MAX_BLOCKS} blocks`, { offset: at });
    const body: string[] = [];
    let j = i + 1;
    let ended = false;
    let headers = lines[j] !== undefined && /^[A-Za-z-]+:/.test(lines[j]!.l);
    for (; j < lines.length; j++) {
      const l = lines[j]!.l;
      if (l.trim() === `-----END ${label}-----`) {
        ended = true;
        break;
      }
      if (headers) {
        if (l.trim() === '') headers = false;
        continue;
      }
      body.push(l.replace(/[ \t]+/g, ''));
    }
    if (!ended) throw formatError(format, `Cannot read ${format} block "${label}" at offset ${at}: no END line`, { offset: at, field: label });
    const b64 = body.join('');
    if (!B64.test(b64) || b64.length % 4) throw formatError(format, `Cannot read ${format} block "${label}" at offset ${at}: bad base64`, { offset: at, field: label });
    out.push({ label, der: Buffer.from(b64, 'base64'), offset: at });
    i = j;
  }
  return out;
}
