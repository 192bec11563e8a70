import fs from 'node:fs';
import { WeldError } from '../errors.js';

export interface LockPackage {
  name: string;
  epoch: number | null;
  version: string;
  release: string;
  arch: string;
  format: 'rpm' | 'deb';
  /** sha256 of the package file, as imported */
  digest: string;
}

/** Exact inputs of a link: relinking with the same lock gives the same bytes. */
export interface Lock {
  lockVersion: 1;
  variant: string;
  format: 'rpm' | 'deb';
  arch: string;
  /** dm-verity salt, lowercase hex */
  salt: string;
  sourceDateEpoch: number;
  packages: LockPackage[];
  users: Record<string, number>;
  groups: Record<string, number>;
}

export function readLock(file: string): Lock | null {
  if (!fs.existsSync(file)) return null;
  let l: Lock;
  try {
    l = JSON.parse(fs.readFileSync(file, 'utf8')) as Lock;
  } catch (e) {
    throw new WeldError('format', 'E_LOCK', `Cannot read lock ${file}: ${(e as Error).message}`, { file });
  }
  if (l.lockVersion !== 1 || !Array.isArray(l.packages) || typeof l.salt !== 'string') {
    throw new WeldError('format', 'E_LOCK', `Cannot read lock ${file}: not a weld lock (lockVersion 1)`, { file });
  }
  return l;
}

export function lockText(l: Lock): string {
  const sortObj = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
  return JSON.stringify({ ...l, users: sortObj(l.users), groups: sortObj(l.groups) }, null, 2) + '\n';
}
