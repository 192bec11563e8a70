/**
 * `dpkg --compare-versions A op B` when one side is empty, which is the only
 * case a fresh install produces ("$2" is the old version, empty on install).
 * The answer is dpkg's own relation table (formats/deb/version.ts). Only
 * that case is decided: with both sides set the result stays unknown.
 */
import { isWeldError } from '../../errors.js';
import { dpkgCompareVersions, isDpkgCompareRelation } from '../../formats/deb/version.js';
import type { Tri, Val } from './values.js';

export function compareVersionsWithEmpty(a: Val, op: string | null, b: Val): Tri {
  if (a === null || b === null || op === null || !isDpkgCompareRelation(op)) return null;
  let seen: Tri | undefined;
  for (const x of a)
    for (const y of b) {
      const r = cmpEmpty(x, op, y);
      if (r === null) return null;
      if (seen === undefined) seen = r;
      else if (seen !== r) return null;
    }
  return seen ?? null;
}

function cmpEmpty(x: string, op: string, y: string): Tri {
  if (x !== '' && y !== '') return null;
  try {
    return dpkgCompareVersions(x, op, y);
  } catch (e) {
    if (isWeldError(e)) return null; // dpkg would fail on the other side's syntax: not knowable here
    throw e;
  }
}
