/**
 * Scriptlet classification: weld never runs package scripts. Each one is
 * turned into declarative actions; what is not understood becomes an
 * `opaque` action with a reason, so nothing is dropped silently.
 */
import type { Action } from '../../model.js';
import { isWeldError } from '../../errors.js';
import { parseShell } from './shell.js';
import { run } from './eval.js';
import type { Ctx } from './values.js';
import { initialEnv, phaseContext } from './context.js';
import { classifyLua } from './lua.js';
import { classifyTriggers } from './triggers.js';
import type { DebconfSet } from './debconf.js';

export { parseSysusers } from './sysusers.js';
export { parseTmpfiles } from './tmpfiles.js';
export { debconfDefaults } from './debconf.js';
export { classifyTriggers } from './triggers.js';
export { tally, formatTally, ACTION_KINDS, type Tally, type ClassifiedScriptlet, type OpaqueItem, type ActionKind } from './tally.js';

export interface ScriptletInput {
  format: 'rpm' | 'deb';
  /** rpm: pre post preun postun pretrans …; deb: preinst postinst prerm postrm config triggers */
  phase: string;
  /** rpm's interpreter (/bin/sh, <lua>, /sbin/ldconfig); deb: '' to read the #! line */
  interpreter: string;
  body: string;
  /** deb: the package's debconf answers on a fresh install (debconf.ts); absent, `db_get` gives an unknown RET */
  debconf?: Record<string, string>;
}

const SHELLS = /^(\/usr)?\/bin\/(sh|bash|dash)$|^(sh|bash|dash)$/;

/** Classifies one scriptlet into actions. Pure and deterministic. */
export { CLASSIFIER_VERSION } from './classifier-version.js';

export function classifyScriptlet(s: ScriptletInput): Action[] {
  return dedupe(classify(s));
}

function classify(s: ScriptletInput): Action[] {
  if (s.format === 'deb' && s.phase === 'triggers') return classifyTriggers(s.body);
  let interp = s.interpreter.trim();
  let body = s.body;
  const shebang = /^#!\s*(\S+)([^\n]*)/.exec(body);
  if (!interp && shebang) interp = shebang[1]!;
  if (!interp) interp = '/bin/sh';
  const prog = interp.split(/\s+/)[0]!;
  const tool = prog.slice(prog.lastIndexOf('/') + 1);
  if (interp === '<lua>') return classifyLua(body, (cmd) => classifyShellText(s.format, s.phase, cmd, s.debconf));
  if (tool === 'ldconfig') return [{ kind: 'ldconfig' }];
  if (!SHELLS.test(prog)) {
    if (!body.trim()) {
      // rpm's `%post -p <program>` with no body runs the program with no arguments
      return classifyShellText(s.format, s.phase, `'${prog.replace(/'/g, "'\\''")}'`, s.debconf);
    }
    return [{ kind: 'opaque', text: body, reason: `interpreter "${interp}" is not classified` }];
  }
  if (!body.trim()) return [];
  return classifyShellText(s.format, s.phase, body, s.debconf);
}

/**
 * The db_set steps a deb's `config` script may run on a fresh install (walked as
 * `config configure`, without running it); null when the script cannot be read.
 */
export function debconfSetsOf(config: string): DebconfSet[] | null {
  // a Perl (or other) config script sets answers weld does not read (postfix's uses Debconf::Client)
  const shebang = /^#!\s*(\S+)/.exec(config);
  if (shebang && !SHELLS.test(shebang[1]!)) return null;
  const sets: DebconfSet[] = [];
  const out = classifyShellText('deb', 'config', config, undefined, sets);
  return out.length === 1 && out[0]!.kind === 'opaque' && out[0]!.text === config ? null : sets;
}

function classifyShellText(format: 'rpm' | 'deb', phase: string, body: string, debconf?: Record<string, string>, debconfSets?: DebconfSet[]): Action[] {
  let tree;
  try {
    tree = parseShell(body);
  } catch (e) {
    if (isWeldError(e)) return [{ kind: 'opaque', text: body, reason: e.message }];
    throw e;
  }
  const pc = phaseContext(format, phase);
  const cx: Ctx = {
    out: [],
    funcs: new Map(),
    called: new Set(),
    callDepth: 0,
    steps: 0,
    assumption: pc.assumption,
    phase,
    format,
    createdDirs: new Set(),
    createdFiles: new Set(),
    lastTest: null,
    returned: new Set(),
    messageFuncs: new Set(),
    debconf: debconf ? new Map(Object.entries(debconf)) : null,
  };
  if (debconfSets) cx.debconfSets = debconfSets;
  run(tree, initialEnv(pc), cx);
  for (const name of cx.funcs.keys()) if (!cx.called.has(name)) cx.out.push({ kind: 'noop', what: `function ${name} is never called` });
  return cx.out;
}

/** the same action twice (ldconfig || ldconfig --verbose, both branches of an if) counts once */
function dedupe(actions: Action[]): Action[] {
  const seen = new Set<string>();
  const out: Action[] = [];
  // diversions and capabilities are state a later step may undo (dash's `--remove` then `--add`): of those the last one counts
  const lastOf = new Map<string, number>();
  const opaqueAt = new Map<string, number>();
  actions.forEach((a, i) => (a.kind === 'divert' || a.kind === 'caps') && lastOf.set(JSON.stringify(a), i));
  actions.forEach((a, i) => {
    // each write is one step of the file's content, even when it repeats one before it (two equal `echo … >> F` lines)
    if (a.kind === 'write') {
      out.push(a);
      return;
    }
    // one opaque step reached under different tests counts once, under none of them (it may run wherever either holds)
    if (a.kind === 'opaque') {
      const k = JSON.stringify({ text: a.text, reason: a.reason });
      const first = opaqueAt.get(k);
      if (first !== undefined) {
        const kept = out[first] as Extract<Action, { kind: 'opaque' }>;
        if (JSON.stringify(kept.when) !== JSON.stringify(a.when)) out[first] = { kind: 'opaque', text: a.text, reason: a.reason };
        return;
      }
      opaqueAt.set(k, out.length);
      out.push(a);
      return;
    }
    const key = JSON.stringify(a);
    if (lastOf.has(key) ? lastOf.get(key) !== i : seen.has(key)) return;
    seen.add(key);
    out.push(a);
  });
  return out;
}
