import fs from 'node:fs';

export interface MountEntry {
  mountPoint: string;
  fsType: string;
  source: string;
}

/** /proc/self/mountinfo fields escape space, tab, newline and backslash as \ooo */
const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));

/** Parses mountinfo text (proc(5)): fields 5 (mount point) and, after " - ", fs type and source. */
function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const [pre, post] = line.split(' - ');
    if (!pre || !post) continue;
    const f = pre.split(' ');
    const g = post.split(' ');
    out.push({ mountPoint: unescape(f[4] ?? ''), fsType: g[0] ?? '', source: unescape(g[1] ?? '') });
  }
  return out;
}

export function mountsAt(mountPoint: string, mountinfo = '/proc/self/mountinfo'): MountEntry[] {
  return parseMountinfo(fs.readFileSync(mountinfo, 'utf8')).filter((m) => m.mountPoint === mountPoint);
}
