/**
 * `dpkg --compare-versions A op B` when one side is empty, which is the only
 * case a fresh install produces ("$2" is the old version, empty on install).
 * dpkg treats an empty version as earlier than any other, except in the
 * `-nl` ("not later") operators, where it is later (dpkg(1)).
 */
import type { Tri, Val } from './values.js';

const OPS: Record<string, string> = {
  lt: 'lt', '<<': 'lt', '<': 'le', le: 'le', '<=': 'le', eq: 'eq', '=': 'eq', ne: 'ne',
  ge: 'ge', '>=': 'ge', '>': 'ge', gt: 'gt', '>>': 'gt',
  'lt-nl': 'lt-nl', 'le-nl': 'le-nl', 'ge-nl': 'ge-nl', 'gt-nl': 'gt-nl',
};

export function compareVersionsWithEmpty(a: Val, op: string | null, b: Val): Tri {
  if (a === null || b === null || op === null || !OPS[op]) return null;
  let seen: Tri | undefined;
  for (const x of a)
    for (const y of b) {
      const r = cmpEmpty(x, OPS[op]!, y);
      if (r === null) return null;
      if (seen === undefined) seen = r;
      else if (seen !== r) return null;
    }
  return seen ?? null;
}

function cmpEmpty(x: string, op: string, y: string): Tri {
  if (x !== '' && y !== '') return null;
  // c < 0: x is earlier than y
  let c: number;
  if (x === '' && y === '') c = 0;
  else {
    const nl = op.endsWith('-nl');
    const xEarlier = x === '' ? !nl : nl;
    c = xEarlier ? -1 : 1;
  }
  switch (op.replace('-nl', '')) {
    case 'lt':
      return c < 0;
    case 'le':
      return c <= 0;
    case 'eq':
      return c === 0;
    case 'ne':
      return c !== 0;
    case 'ge':
      return c >= 0;
    case 'gt':
      return c > 0;
  }
  return null;
}
