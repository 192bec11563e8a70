import type { Store } from './store.js';
import { nevra } from './store.js';

export interface ScriptletReport {
  packages: number;
  scriptlets: number;
  counts: Record<string, number>;
  opaque: { package: string; format: string; phase: string; reason: string; text: string }[];
}

/**
 * Per-kind action counts across the store, and every opaque scriptlet with its
 * reason. Read from the link data the catalog derives from each header, so a
 * reclassified package reports what a fresh import of it would.
 */
export function scriptletReport(store: Store): ScriptletReport {
  const counts = new Map<string, number>();
  let scriptlets = 0;
  let packages = 0;
  const opaque: (ScriptletReport['opaque'][number] & { name: string; idx: number })[] = [];
  for (const { row, link } of store.catalog.everyLinkData()) {
    if (link.scriptlets.length) packages++;
    scriptlets += link.scriptlets.length;
    const sources = [
      ...link.fileActions.map((f) => ({ phase: null, actions: f.actions })),
      ...link.scriptlets.map((s) => ({ phase: s.phase as string | null, actions: s.actions })),
    ];
    for (const { phase, actions } of sources) {
      actions.forEach((a, idx) => {
        counts.set(a.kind, (counts.get(a.kind) ?? 0) + 1);
        if (a.kind !== 'opaque') return;
        opaque.push({ name: row.name, idx, package: nevra(row), format: row.format, phase: phase ?? 'file', reason: a.reason, text: a.text });
      });
    }
  }
  // by package name, format, phase (file actions first), then position
  const phaseKey = (o: { phase: string }) => (o.phase === 'file' ? '' : o.phase);
  opaque.sort((a, b) => cmp(a.name, b.name) || cmp(a.format, b.format) || cmp(phaseKey(a), phaseKey(b)) || a.idx - b.idx);
  return {
    packages,
    scriptlets,
    counts: Object.fromEntries([...counts].sort(([a], [b]) => cmp(a, b))),
    opaque: opaque.map(({ name: _n, idx: _i, ...o }) => o),
  };
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
