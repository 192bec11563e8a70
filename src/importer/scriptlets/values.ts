/**
 * The value types the scriptlet walker (eval.ts) and the command recognisers
 * (commands.ts, testexpr.ts, versions.ts) share; their own module, so the
 * recognisers need not import the walker that calls them.
 */
import type { Action, Guard } from '../../model.js';
import type { Node } from './shell.js';

/** possible values of a string; null = unknown */
export type Val = string[] | null;
/** true = exit status 0 */
export type Tri = boolean | null;

export interface Env {
  vars: Map<string, Val>;
  /** positional parameters $1..$n */
  pos: Val[];
  /** set when $@ is unknown (rpm triggers, `set --` with unknowns) */
  posUnknown: boolean;
  /** file tests of the unknown `if` branches this path is in (or that it passed by returning early from the other side): the `when` of file actions */
  guards: Guard[];
  /** a variable that file tests decided (`do_copy=false` under `[ -e X ]`): for its value as set then (`val`, by identity), the tests under which it has each value */
  held?: Map<string, { val: string[]; when: Map<string, Guard[]> }>;
}

export interface Ctx {
  out: Action[];
  funcs: Map<string, Node>;
  called: Set<string>;
  callDepth: number;
  steps: number;
  /** how the phase was assumed to run, for "branch not taken" notes */
  assumption: string;
  phase: string;
  format: 'rpm' | 'deb';
  /** directories this script created: chown/chmod on them is a directory action */
  createdDirs: Set<string>;
  /** regular files this script created (`: > f`, touch, cp): chown/chmod on them is a file action */
  createdFiles: Set<string>;
  /** the file test the last `[`/test command could not decide, if it was one */
  lastTest: Guard | null;
  /** call depths at which a `return` (not an `exit`) ended the flow */
  returned: Set<number>;
  /** functions of sourced libraries known to only print */
  messageFuncs: Set<string>;
  /** the package's debconf answers on a fresh install (null: unknown) */
  debconf: Map<string, string> | null;
  /** the db_set steps walked, when the caller collects them (the config script: debconf.ts) */
  debconfSets?: { question: string | null; when: Guard[] }[];
}

