/**
 * Text rule shared by every JSON output: valid UTF-8 prints as is, any other
 * byte prints as \xNN (the way rpm prints a non-UTF-8 file name).
 */
const strict = new TextDecoder('utf-8', { fatal: true });

export function isUtf8(bytes: Uint8Array): boolean {
  try {
    strict.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

export function displayText(bytes: Uint8Array): string {
  try {
    return strict.decode(bytes);
  } catch {
    // decode maximal valid runs, escape the rest byte by byte
    let out = '';
    let i = 0;
    while (i < bytes.length) {
      const n = utf8SeqLen(bytes, i);
      if (n > 0) {
        out += strict.decode(bytes.subarray(i, i + n));
        i += n;
      } else {
        out += '\\x' + bytes[i]!.toString(16).padStart(2, '0');
        i++;
      }
    }
    return out;
  }
}

function utf8SeqLen(b: Uint8Array, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  let n: number, min: number;
  if (c >= 0xc2 && c <= 0xdf) (n = 2), (min = 0x80);
  else if (c >= 0xe0 && c <= 0xef) (n = 3), (min = 0x800);
  else if (c >= 0xf0 && c <= 0xf4) (n = 4), (min = 0x10000);
  else return 0;
  if (i + n > b.length) return 0;
  let cp = c & (0xff >> (n + 1));
  for (let k = 1; k < n; k++) {
    const d = b[i + k]!;
    if ((d & 0xc0) !== 0x80) return 0;
    cp = (cp << 6) | (d & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}
