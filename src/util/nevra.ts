/** name-[epoch:]version[-release].arch, as weld prints a package's identity. */
export function nevra(p: { name: string; epoch: number | null; version: string; release: string; arch: string }): string {
  return `${p.name}-${p.epoch !== null && p.epoch !== undefined ? p.epoch + ':' : ''}${p.version}${p.release ? '-' + p.release : ''}.${p.arch}`;
}
