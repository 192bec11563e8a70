import type { Action } from '../../model.js';

export type ActionKind = Action['kind'];
// a record, so the compiler names any kind model.ts adds and this list forgets
const KINDS: Record<ActionKind, true> = {
  user: true, group: true, ldconfig: true, alternative: true, service: true, directory: true, symlink: true, copy: true, file: true,
  write: true, rename: true, rmdir: true, remove: true, statoverride: true, tmpfiles: true, cache: true, generate: true, shell: true, firstboot: true, rclinks: true, apache: true, caps: true, divert: true, postconf: true, usermod: true, noop: true, opaque: true,
};
export const ACTION_KINDS: readonly ActionKind[] = Object.keys(KINDS) as ActionKind[];

export interface ClassifiedScriptlet {
  package: string;
  phase: string;
  actions: Action[];
}

export interface OpaqueItem {
  package: string;
  phase: string;
  text: string;
  reason: string;
}

export interface Tally {
  scriptlets: number;
  /** scriptlets with at least one opaque action */
  opaqueScriptlets: number;
  /** actions per kind, every kind present (0 when none) */
  counts: Record<ActionKind, number>;
  opaque: OpaqueItem[];
}

/** Counts for `weld scriptlets`: actions per kind and every opaque action with where it came from. */
export function tally(scriptlets: ClassifiedScriptlet[]): Tally {
  const counts = Object.fromEntries(ACTION_KINDS.map((k) => [k, 0])) as Record<ActionKind, number>;
  const opaque: OpaqueItem[] = [];
  let opaqueScriptlets = 0;
  for (const s of scriptlets) {
    let any = false;
    for (const a of s.actions) {
      counts[a.kind]++;
      if (a.kind === 'opaque') {
        any = true;
        opaque.push({ package: s.package, phase: s.phase, text: a.text, reason: a.reason });
      }
    }
    if (any) opaqueScriptlets++;
  }
  return { scriptlets: scriptlets.length, opaqueScriptlets, counts, opaque };
}

/** one line per kind with a count, then one line per opaque action */
export function formatTally(t: Tally): string {
  const lines = [`${t.scriptlets} scriptlets, ${t.opaqueScriptlets} with opaque parts`];
  for (const k of ACTION_KINDS) if (t.counts[k]) lines.push(`  ${k.padEnd(12)} ${t.counts[k]}`);
  for (const o of t.opaque) lines.push(`opaque ${o.package} ${o.phase}: ${o.reason}: ${o.text.split('\n')[0]}`);
  return lines.join('\n');
}
