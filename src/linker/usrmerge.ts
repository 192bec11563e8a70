/** Top-level directories that merged-/usr turns into symlinks into /usr (as debootstrap does). */
export const MERGED_DIRS = ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32'] as const;

const RE = new RegExp(`^/(${MERGED_DIRS.join('|')})(/|$)`);

/** `/bin/x` → `/usr/bin/x`; everything else unchanged. */
export function usrPath(p: string): string {
  const m = RE.exec(p);
  return m ? `/usr${p}` : p;
}

export function isMergedTop(p: string): boolean {
  return MERGED_DIRS.some((d) => p === `/${d}`);
}
