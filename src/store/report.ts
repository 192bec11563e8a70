import type { Store } from './store.js';
import { nevra } from './store.js';

export interface ScriptletReport {
  packages: number;
  scriptlets: number;
  counts: Record<string, number>;
  opaque: { package: string; format: string; phase: string; reason: string; text: string }[];
}

/** Per-kind action counts across the store, and every opaque scriptlet with its reason. */
export function scriptletReport(store: Store): ScriptletReport {
  const db = store.catalog.db;
  const counts: Record<string, number> = {};
  for (const r of db.prepare('SELECT kind, COUNT(*) AS n FROM actions GROUP BY kind ORDER BY kind').all() as { kind: string; n: number }[]) counts[r.kind] = r.n;
  const scriptlets = (db.prepare('SELECT COUNT(*) AS n FROM scriptlets').get() as { n: number }).n;
  const packages = (db.prepare('SELECT COUNT(DISTINCT pkg) AS n FROM scriptlets').get() as { n: number }).n;
  const opaque = (
    db
      .prepare(
        `SELECT p.name, p.epoch, p.version, p.release, p.arch, p.format, s.phase, a.data FROM actions a
         JOIN packages p ON p.id = a.pkg LEFT JOIN scriptlets s ON s.pkg = a.pkg AND s.idx = a.scriptlet
         WHERE a.kind = 'opaque' ORDER BY p.name, p.format, s.phase, a.idx`,
      )
      .all() as { name: string; epoch: number | null; version: string; release: string; arch: string; format: string; phase: string | null; data: string }[]
  ).map((r) => {
    const a = JSON.parse(r.data) as { text: string; reason: string };
    return { package: nevra(r), format: r.format, phase: r.phase ?? 'file', reason: a.reason, text: a.text };
  });
  return { packages, scriptlets, counts, opaque };
}
