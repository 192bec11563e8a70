/**
 * Abstract interpretation of a parsed maintainer script. Nothing is executed:
 * values are sets of possible strings (or unknown), conditions are
 * true/false/unknown, and every branch that may run is walked so each simple
 * command gets classified exactly once per path. Known branches are pruned
 * using the phase's arguments (a fresh install: deb `postinst configure`,
 * rpm `%post` with $1 = 1).
 */
import type { Action, Guard } from '../../model.js';
import { parseWordText, type Node, type Redir, type Word } from './shell.js';
import { absPath, classifyCommand, createMode, makeTemp, undecided, UNDECIDED_VAR, type Cmd, type StatWord } from './commands.js';
import { commandOutput } from './system.js';
import { readSedScript, sedCommandLine } from './sed.js';
import type { Ctx, Env, Tri, Val } from './values.js';

const MAX_ALTS = 8;
const MAX_CALL_DEPTH = 16;
const MAX_LOOP_ITEMS = 64;
/** total simple commands walked; keeps hostile input (loops of calls) bounded */
const MAX_STEPS = 20000;

export interface Flow {
  status: Tri;
  /** this path definitely ended (exit, or return inside a function) */
  exited: boolean;
}

const cloneEnv = (e: Env): Env => ({ vars: new Map(e.vars), pos: [...e.pos], posUnknown: e.posUnknown, guards: [...e.guards], ...(e.held ? { held: new Map(e.held) } : {}) });

function unionVal(a: Val, b: Val): Val {
  if (a === null || b === null) return null;
  const u = [...new Set([...a, ...b])];
  return u.length > MAX_ALTS ? null : u;
}

/** the file tests under which VAR has the value V in env e (its path's tests, and those that decided it before); null: not only tests */
function heldWhen(e: Env, k: string, v: string): Guard[] | null {
  const x = e.vars.get(k);
  if (!x || !x.includes(v)) return null;
  if (x.length === 1) return e.guards;
  const h = e.held?.get(k);
  const w = h && h.val === x ? h.when.get(v) : undefined;
  return w ? [...e.guards, ...w.filter((g) => !e.guards.some((f) => sameGuard(f, g)))] : null;
}

/** A ⊆ B as sets of tests */
const within = (a: Guard[], b: Guard[]) => a.every((g) => b.some((f) => sameGuard(f, g)));

/** joins the environments of paths that may both continue; `decided`: only file tests told the paths apart */
function merge(envs: Env[], into: Env, decided = false): void {
  if (!envs.length) return;
  const names = new Set<string>();
  for (const e of envs) for (const k of e.vars.keys()) names.add(k);
  into.vars.clear();
  into.held = new Map();
  for (const k of names) {
    let v: Val | undefined;
    for (const e of envs) {
      const x = e.vars.has(k) ? e.vars.get(k)! : null;
      v = v === undefined ? x : unionVal(v, x);
    }
    into.vars.set(k, v ?? null);
    if (!decided || !v || v.length < 2 || k.startsWith(' ')) continue;
    // each value under the tests of the paths that have it: one path's, or the weaker of two where one implies the other
    const when = new Map<string, Guard[]>();
    for (const val of v) {
      let w: Guard[] | null | undefined;
      for (const e of envs) {
        if (!e.vars.get(k)?.includes(val)) continue;
        const c = heldWhen(e, k, val);
        w = w === undefined ? c : w === null || c === null ? null : within(w, c) ? w : within(c, w) ? c : null;
      }
      if (w) when.set(val, w);
    }
    if (when.size) into.held.set(k, { val: v, when });
  }
  if (!into.held.size) delete into.held;
  const n = Math.max(...envs.map((e) => e.pos.length));
  into.pos = [];
  for (let i = 0; i < n; i++) {
    let v: Val | undefined;
    for (const e of envs) v = v === undefined ? (e.pos[i] ?? ['']) : unionVal(v, e.pos[i] ?? ['']);
    into.pos.push(v ?? null);
  }
  into.posUnknown = envs.some((e) => e.posUnknown);
  // the tests every continuing path is under: a branch that returned early leaves the other's test standing
  const g = envs[0]!.guards;
  let k = 0;
  while (k < g.length && envs.every((e) => k < e.guards.length && sameGuard(e.guards[k]!, g[k]!))) k++;
  into.guards = g.slice(0, k);
}

const sameGuard = (a: Guard, b: Guard) => a.test === b.test && a.path === b.path && a.negate === b.negate;

function concat(a: Val, b: Val): Val {
  if (a === null || b === null) return null;
  const out: string[] = [];
  for (const x of a) for (const y of b) out.push(x + y);
  const u = [...new Set(out)];
  return u.length > MAX_ALTS ? null : u;
}

function lookup(name: string, env: Env): Val {
  if (/^[0-9]+$/.test(name)) {
    const i = Number(name);
    if (i === 0) return null;
    if (env.posUnknown) return null;
    return env.pos[i - 1] ?? [''];
  }
  if (name === '#') return env.posUnknown ? null : [String(env.pos.length)];
  if (name === '@' || name === '*') {
    if (env.posUnknown) return null;
    let v: Val = [''];
    env.pos.forEach((p, i) => (v = concat(concat(v, i ? [' '] : ['']), p)));
    return v;
  }
  return env.vars.has(name) ? env.vars.get(name)! : null;
}

function expandParam(p: Extract<Word['parts'][number], { t: 'param' }>, env: Env, line: number, cx: Ctx): Val {
  const v = lookup(p.name, env);
  switch (p.op) {
    case '':
      return v;
    case '#len':
      return v && [...new Set(v.map((s) => String(s.length)))];
    case '-':
    case ':-':
    case '=':
    case ':=': {
      if (v === null) return null;
      if (v.every((s) => s !== '')) return v;
      const d = expandJoined(parseWordText(p.arg, line), env, cx);
      if (p.op.endsWith('=') && !/^[0-9@*#?$!-]/.test(p.name)) env.vars.set(p.name, v.every((s) => s === '') ? d : unionVal(v.filter((s) => s), d));
      return v.every((s) => s === '') ? d : unionVal(v.filter((s) => s), d);
    }
    case '+':
    case ':+': {
      if (v === null) return null;
      if (v.every((s) => s === '')) return [''];
      const d = expandJoined(parseWordText(p.arg, line), env, cx);
      return v.every((s) => s !== '') ? d : unionVal([''], d);
    }
    default:
      return null;
  }
}

/** expands a word into one string value (no field splitting) */
function expandJoined(w: Word, env: Env, cx: Ctx): Val {
  let v: Val = [''];
  for (const p of w.parts) {
    if (p.t === 'lit') v = concat(v, [p.v]);
    else if (p.t === 'param') v = concat(v, expandParam(p, env, w.line, cx));
    // $(mktemp): a new empty file only this script sees
    else if (p.t === 'cmdsub' && /^\s*mktemp(\s+-[qu]+)*\s*$/.test(p.text)) v = concat(v, [makeTemp(env, w.line)]);
    // the few command substitutions whose output a fresh image decides (dpkg-divert --listpackage)
    else {
      const o = commandOutput(p.text, env);
      v = o === undefined ? null : concat(v, o);
    }
    if (v === null) return null;
  }
  return v;
}

/**
 * Expands a word into fields. Unquoted expansions that are empty vanish and a
 * single known value with blanks splits (XCU 2.6.5); "$@" gives one field per
 * positional parameter.
 */
function expandFields(w: Word, env: Env, cx: Ctx): Val[] {
  const only = w.parts.length === 1 ? w.parts[0]! : null;
  if (only?.t === 'param' && (only.name === '@' || (only.name === '*' && !only.quoted)) && only.op === '') {
    return env.posUnknown ? [null] : env.pos.map((p) => p);
  }
  const v = expandJoined(w, env, cx);
  const quoted = w.parts.some((p) => p.quoted);
  if (quoted) return [v];
  if (v === null) return [null];
  if (v.every((s) => s.trim() === '')) return [];
  if (v.length === 1) return v[0]!.split(/[ \t\n]+/).filter(Boolean).map((s) => [s]);
  return [v];
}

function expandAll(words: Word[], env: Env, cx: Ctx): Val[] {
  return words.flatMap((w) => expandFields(w, env, cx));
}

const one = (v: Val): string | null => (v && v.length === 1 ? v[0]! : null);

function note(cx: Ctx, what: string): void {
  cx.out.push({ kind: 'noop', what });
}

function skipped(cx: Ctx, node: Node, why: string): void {
  note(cx, `skipped ${node.t === 'list' ? 'commands' : node.t} at line ${node.line}: ${why} (${cx.assumption})`);
}

function hasCommands(n: Node): boolean {
  return !(n.t === 'list' && n.items.length === 0);
}

/** runs `fn` on clones of env for each possible path and merges the ones that continue */
function branch(env: Env, paths: ((e: Env) => Flow)[], decided = false): Flow {
  const live: Env[] = [];
  const statuses: Tri[] = [];
  const before = env.vars.get(UNDECIDED_VAR);
  for (const p of paths) {
    const e = cloneEnv(env);
    // a file test the linker answers decides the branch; anything else leaves it open
    if (!decided) e.vars.set(UNDECIDED_VAR, ['yes']);
    const f = p(e);
    if (!f.exited) {
      live.push(e);
      statuses.push(f.status);
    }
  }
  if (!live.length) return { status: null, exited: true };
  merge(live, env, decided);
  if (before === undefined) env.vars.delete(UNDECIDED_VAR);
  else env.vars.set(UNDECIDED_VAR, before);
  const s = statuses.every((x) => x === statuses[0]) ? statuses[0]! : null;
  return { status: s, exited: false };
}

export function run(n: Node, env: Env, cx: Ctx): Flow {
  switch (n.t) {
    case 'list': {
      let last: Flow = { status: true, exited: false };
      for (let i = 0; i < n.items.length; i++) {
        last = run(n.items[i]!, env, cx);
        if (last.exited) {
          const rest = n.items.slice(i + 1);
          if (rest.length) note(cx, `unreachable commands after exit, from line ${rest[0]!.line}`);
          break;
        }
      }
      return last;
    }
    case 'andor': {
      cx.lastTest = null;
      const l = run(n.left, env, cx);
      if (l.exited) return l;
      const runsRight = n.op === '&&' ? l.status : l.status === null ? null : !l.status;
      if (runsRight === false) {
        skipped(cx, n.right, `the left side of "${n.op}" decides`);
        return l;
      }
      if (runsRight === true) return run(n.right, env, cx);
      // `[ -f X ] || make_x`: the right side runs under the test's answer, as an `if` branch would
      const single = singleCommand(n.left);
      const last = cx.lastTest as Guard | null;
      if (single && last) {
        const g: Guard = single.neg !== (n.op === '||') ? { ...last, negate: !last.negate } : last;
        // the other path passes under the test's other answer: what follows `[ -d X ] || exit 0` runs only where X is a directory
        return branch(env, [(e) => guarded(e, g, () => run(n.right, e, cx)), (e) => guarded(e, { ...g, negate: !g.negate }, () => ({ status: l.status, exited: false }))], true);
      }
      return branch(env, [(e) => run(n.right, e, cx), () => ({ status: l.status, exited: false })]);
    }
    case 'pipeline': {
      // every stage runs in a subshell; the status is the last stage's
      let st: Tri = null;
      for (const c of n.cmds) st = run(c, cloneEnv(env), cx).status;
      if (n.cmds.length > 1 && n.cmds.slice(0, -1).some((c) => c.t === 'simple' && c.words.length === 0)) st = null;
      return { status: n.neg ? (st === null ? null : !st) : st, exited: false };
    }
    case 'group': {
      checkRedirs(n.redirs, env, cx, `${n.subshell ? '( )' : '{ }'} at line ${n.line}`);
      if (n.subshell) {
        const f = run(n.body, cloneEnv(env), cx);
        return { status: f.status, exited: false };
      }
      return run(n.body, env, cx);
    }
    case 'if': {
      checkRedirs(n.redirs, env, cx, `if at line ${n.line}`);
      return runIf(n, 0, env, cx);
    }
    case 'case':
      checkRedirs(n.redirs, env, cx, `case at line ${n.line}`);
      return runCase(n, env, cx);
    case 'for': {
      checkRedirs(n.redirs, env, cx, `for at line ${n.line}`);
      const items = n.items ? expandAll(n.items, env, cx) : env.posUnknown ? [null] : env.pos;
      const exact = items.every((v) => v !== null && v.length === 1) && items.length <= MAX_LOOP_ITEMS;
      if (!exact) {
        // walk the body once with the loop variable unknown
        return branch(env, [
          (e) => {
            e.vars.set(n.name, null);
            return run(n.body, e, cx);
          },
          () => ({ status: true, exited: false }),
        ]);
      }
      if (!items.length) skipped(cx, n.body, 'the loop has no items');
      let last: Flow = { status: true, exited: false };
      for (const it of items) {
        env.vars.set(n.name, it);
        last = run(n.body, env, cx);
        if (last.exited) return last;
      }
      return last;
    }
    case 'while': {
      checkRedirs(n.redirs, env, cx, `while at line ${n.line}`);
      const c = run(n.cond, env, cx);
      if (c.exited) return c;
      const enters = n.until ? (c.status === null ? null : !c.status) : c.status;
      if (enters === false) {
        skipped(cx, n.body, 'the loop condition is false');
        return { status: true, exited: false };
      }
      // one pass stands for any number of iterations
      return branch(env, [(e) => run(n.body, e, cx), () => ({ status: true, exited: false })]);
    }
    case 'func':
      cx.funcs.set(n.name, n.body);
      return { status: true, exited: false };
    case 'simple':
      return runSimple(n, env, cx);
  }
}

// an opaque step under tests the tree answers "no" does not run there: the linker leaves it out of "partly understood"
const GUARDED = new Set(['directory', 'symlink', 'copy', 'file', 'rmdir', 'remove', 'statoverride', 'write', 'rename', 'divert', 'opaque']);

function guarded(env: Env, g: Guard, f: () => Flow): Flow {
  env.guards = [...env.guards, g];
  return f();
}

/** Actions emitted inside guarded branches carry their guards. */
function withGuards(env: Env, actions: Action[]): Action[] {
  if (!env.guards.length) return actions;
  return actions.map((a) => (GUARDED.has(a.kind) ? ({ ...a, when: [...env.guards] } as Action) : a));
}

/** A condition that is one command (maybe negated with `!`): null when it is more than that. */
function singleCommand(n: Node): { neg: boolean } | null {
  if (n.t === 'simple') return { neg: false };
  if (n.t === 'list' && n.items.length === 1) return singleCommand(n.items[0]!);
  if (n.t === 'pipeline' && n.cmds.length === 1) {
    const inner = singleCommand(n.cmds[0]!);
    return inner && { neg: inner.neg !== n.neg };
  }
  return null;
}

function runIf(n: Extract<Node, { t: 'if' }>, i: number, env: Env, cx: Ctx): Flow {
  if (i >= n.clauses.length) {
    if (n.otherwise) return run(n.otherwise, env, cx);
    return { status: true, exited: false };
  }
  const { cond, body } = n.clauses[i]!;
  const chain = testChain(cond);
  if (chain) return runIfChain(n, i, chain, env, cx);
  const flag = flagTests(cond, env, cx);
  if (flag) {
    // `if $do_copy`: the body runs where the tests that left the flag true hold
    note(cx, `${flag.name} (true where ${flag.when.length} file tests hold)`);
    const before = env.vars.get(UNDECIDED_VAR);
    const then = (e: Env) => {
      e.guards = [...e.guards, ...flag.when.filter((g) => !e.guards.some((f) => sameGuard(f, g)))];
      if (before === undefined) e.vars.delete(UNDECIDED_VAR);
      else e.vars.set(UNDECIDED_VAR, before);
      return run(body, e, cx);
    };
    return branch(env, [then, (e) => runIf(n, i + 1, e, cx)]);
  }
  cx.lastTest = null;
  const c = run(cond, env, cx);
  if (c.exited) return c;
  // `if [ ! -d X ]` that only the finished tree can answer: each branch records its side of the test
  const single = c.status === null ? singleCommand(cond) : null;
  // run() above may have set it: read it through a widened type
  const last = cx.lastTest as Guard | null;
  if (single && last) {
    const g: Guard = single.neg ? { ...last, negate: !last.negate } : last;
    return branch(env, [(e) => guarded(e, g, () => run(body, e, cx)), (e) => guarded(e, { ...g, negate: !g.negate }, () => runIf(n, i + 1, e, cx))], true);
  }
  if (c.status === true) {
    for (const later of n.clauses.slice(i + 1)) if (hasCommands(later.body)) skipped(cx, later.body, 'an earlier condition is true');
    if (n.otherwise && hasCommands(n.otherwise)) skipped(cx, n.otherwise, 'an earlier condition is true');
    return run(body, env, cx);
  }
  if (c.status === false) {
    if (hasCommands(body)) skipped(cx, body, `the condition at line ${cond.line} is false`);
    return runIf(n, i + 1, env, cx);
  }
  return branch(env, [(e) => run(body, e, cx), (e) => runIf(n, i + 1, e, cx)]);
}

/** a condition that is only `$NAME`, NAME true or false as file tests decided it: the tests under which it is true */
function flagTests(cond: Node, env: Env, cx: Ctx): { name: string; when: Guard[] } | null {
  const c = cond.t === 'list' && cond.items.length === 1 ? cond.items[0]! : cond;
  if (c.t !== 'simple' || c.assigns.length || c.redirs.length || c.words.length !== 1) return null;
  const p = c.words[0]!.parts;
  if (p.length !== 1 || p[0]!.t !== 'param' || p[0]!.op !== '') return null;
  const name = p[0]!.name;
  const v = env.vars.get(name);
  if (!v || v.length !== 2 || !v.includes('true') || !v.includes('false') || cx.funcs.has('true') || cx.funcs.has('false')) return null;
  const h = env.held?.get(name);
  const when = h && h.val === v ? h.when.get('true') : undefined;
  return when && when.length ? { name: c.words[0]!.raw, when } : null;
}

/** `[ A ] && [ B ] && …` (each maybe negated), when the condition is nothing but such tests, as its parts */
function testChain(n: Node): Node[] | null {
  if (n.t === 'list' && n.items.length === 1) return testChain(n.items[0]!);
  if (n.t !== 'andor' || n.op !== '&&') return null;
  const parts: Node[] = [];
  const walk = (m: Node): boolean => {
    if (m.t === 'andor') return m.op === '&&' && walk(m.left) && walk(m.right);
    const inner = m.t === 'pipeline' && m.cmds.length === 1 ? m.cmds[0]! : m;
    if (inner.t !== 'simple' || inner.assigns.length || inner.redirs.length) return false;
    const name = inner.words[0]?.raw;
    if (name !== '[' && name !== 'test' && name !== '[[') return false;
    parts.push(m);
    return true;
  };
  return walk(n) ? parts : null;
}

/**
 * `if [ ! -L X ] && [ -e X ]`: the body runs where every file test the tree
 * answers holds (guards are a conjunction); the next clause runs where one
 * fails, which a guard can say only when there is one such test.
 */
function runIfChain(n: Extract<Node, { t: 'if' }>, i: number, chain: Node[], env: Env, cx: Ctx): Flow {
  const { cond, body } = n.clauses[i]!;
  const gs: Guard[] = [];
  let open = false;
  for (const part of chain) {
    cx.lastTest = null;
    const r = run(part, env, cx);
    if (r.exited) return r;
    if (r.status === false) {
      if (hasCommands(body)) skipped(cx, body, `the condition at line ${cond.line} is false`);
      return runIf(n, i + 1, env, cx);
    }
    if (r.status === true) continue;
    const single = singleCommand(part);
    const last = cx.lastTest as Guard | null;
    if (single && last) gs.push(single.neg ? { ...last, negate: !last.negate } : last);
    else open = true;
  }
  if (!gs.length && !open) {
    for (const later of n.clauses.slice(i + 1)) if (hasCommands(later.body)) skipped(cx, later.body, 'an earlier condition is true');
    if (n.otherwise && hasCommands(n.otherwise)) skipped(cx, n.otherwise, 'an earlier condition is true');
    return run(body, env, cx);
  }
  const before = env.vars.get(UNDECIDED_VAR);
  const then = (e: Env) => {
    e.guards = [...e.guards, ...gs];
    // the guards decide the body, unless a part only a running system answers is open
    if (!open) {
      if (before === undefined) e.vars.delete(UNDECIDED_VAR);
      else e.vars.set(UNDECIDED_VAR, before);
    }
    return run(body, e, cx);
  };
  if (!open && gs.length === 1) return branch(env, [then, (e) => guarded(e, { ...gs[0]!, negate: !gs[0]!.negate }, () => runIf(n, i + 1, e, cx))], true);
  return branch(env, [then, (e) => runIf(n, i + 1, e, cx)]);
}

/** a case pattern as a RegExp; quoted parts are literal (XCU 2.13) */
function patternRegex(w: Word, env: Env, cx: Ctx): RegExp | null {
  let re = '';
  for (const p of w.parts) {
    let text: string;
    if (p.t === 'lit') text = p.v;
    else {
      const v = one(expandJoined({ parts: [p], raw: '', line: w.line }, env, cx));
      if (v === null) return null;
      text = v;
    }
    if (p.quoted || p.t !== 'lit') {
      re += text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      continue;
    }
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (c === '*') re += '.*';
      else if (c === '?') re += '.';
      else if (c === '[') {
        const end = text.indexOf(']', i + 2);
        if (end < 0) re += '\\[';
        else {
          re += '[' + text.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\') + ']';
          i = end;
        }
      } else if (c === '\\' && i + 1 < text.length) re += '\\' + text[++i];
      else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${re}$`, 's');
}

function runCase(n: Extract<Node, { t: 'case' }>, env: Env, cx: Ctx): Flow {
  const subject = expandJoined(n.word, env, cx);
  const reached = new Set<number>();
  let maybeNone = false;
  if (subject === null) {
    n.arms.forEach((_, i) => reached.add(i));
    maybeNone = true;
  } else {
    for (const s of subject) {
      let hit = -1;
      for (let i = 0; i < n.arms.length && hit < 0; i++) {
        for (const p of n.arms[i]!.patterns) {
          const re = patternRegex(p, env, cx);
          if (re === null) {
            // an unknown pattern may or may not match: walk it, keep looking
            reached.add(i);
            continue;
          }
          if (re.test(s)) {
            hit = i;
            break;
          }
        }
      }
      if (hit >= 0) reached.add(hit);
      else maybeNone = true;
    }
  }
  const paths: ((e: Env) => Flow)[] = [];
  n.arms.forEach((arm, i) => {
    if (reached.has(i)) paths.push((e) => run(arm.body, e, cx));
    else if (hasCommands(arm.body)) note(cx, `skipped case arm "${arm.patterns.map((p) => p.raw).join('|')})" at line ${arm.line}: not reached (${cx.assumption})`);
  });
  if (maybeNone) paths.push(() => ({ status: true, exited: false }));
  if (paths.length === 1) return paths[0]!(env);
  return branch(env, paths);
}

const QUIET_TARGETS = /^(\/dev\/null|\/dev\/stderr|\/dev\/stdout|\/dev\/tty|&[0-9-]|[0-9-])$/;

/**
 * Output to a real file is a side effect no action models, except where the
 * command writes nothing (`: > f`, a bare `> f`): that only makes sure an
 * empty (or, with >>, existing) file is there, which a file action models.
 */
function checkRedirs(redirs: Redir[], env: Env, cx: Ctx, text: string, silent = false): boolean {
  for (const r of redirs) {
    if (!['>', '>>', '>|', '&>', '<>'].includes(r.op)) continue;
    const target = one(expandJoined(r.target, env, cx));
    const t = target ?? r.target.raw;
    if (r.op === '>&' || QUIET_TARGETS.test(t)) continue;
    const cm = createMode(env);
    if (silent && target !== null && target.startsWith('/') && !target.endsWith('/') && r.op !== '<>' && cm !== null) {
      const f: Extract<Action, { kind: 'file' }> = { kind: 'file', path: target, truncate: r.op !== '>>' };
      if (cm !== undefined) f.createMode = cm;
      cx.out.push(...withGuards(env, [f]));
      cx.createdFiles.add(target);
      continue;
    }
    cx.out.push(...withGuards(env, [{ kind: 'opaque', text, reason: `writes to "${t}" at line ${r.target.line}` }]));
    return false;
  }
  return true;
}

function runSimple(n: Extract<Node, { t: 'simple' }>, env: Env, cx: Ctx): Flow {
  if (++cx.steps > MAX_STEPS) {
    cx.out.push({ kind: 'opaque', text: n.text, reason: `script too long to classify (over ${MAX_STEPS} steps) at line ${n.line}` });
    return { status: null, exited: true };
  }
  const argv = expandAll(n.words, env, cx);
  if (!argv.length) {
    // bare assignments change the shell's own variables
    for (const a of n.assigns) env.vars.set(a.name, expandJoined(a.value, env, cx));
    // the command whose output a variable holds (`files=$(dpkg -L pkg | sed …)`), under a name no script can spell, for python.ts
    for (const a of n.assigns) env.vars.set(` $(${a.name})`, a.value.parts.length === 1 && a.value.parts[0]!.t === 'cmdsub' ? [a.value.parts[0]!.text] : null);
    if (!checkRedirs(n.redirs, env, cx, n.text, true)) return { status: null, exited: false };
    if (n.assigns.length) note(cx, `set ${n.assigns.map((a) => a.name).join(' ')}`);
    return { status: n.words.some((w) => w.parts.some((p) => p.t === 'cmdsub')) ? null : true, exited: false };
  }
  const name = one(argv[0]!);
  if (name === null) {
    // `if $do_copy` with do_copy true or false (apache2's postinst): only its status, which is not known here
    const alts = argv[0];
    if (alts && alts.length && argv.length === 1 && !n.redirs.length && alts.every((v) => (v === 'true' || v === 'false') && !cx.funcs.has(v))) {
      note(cx, `${n.words[0]?.raw ?? ''} (true or false)`);
      return { status: null, exited: false };
    }
    cx.out.push(...withGuards(env, [{ kind: 'opaque', text: n.text, reason: `cannot resolve the command name "${n.words[0]?.raw ?? ''}" at line ${n.line}` }]));
    return { status: null, exited: false };
  }
  if ((name === 'cat' || name === 'echo' || name === 'sed') && !cx.funcs.has(name)) {
    const w = writeOf(n, name, argv, env, cx);
    if (w) {
      if (typeof w !== 'string' && undecided(env)) cx.out.push(...withGuards(env, [{ kind: 'opaque', text: n.text, reason: `${name} writes ${w.path} in a branch whose condition weld cannot decide at line ${n.line}` }]));
      else if (typeof w === 'string') cx.out.push(...withGuards(env, [{ kind: 'opaque', text: n.text, reason: `${w} at line ${n.line}` }]));
      else if (ACCOUNT_DB.has(w.path)) {
        // base-passwd's preinst seeds them when absent; the linker's accounts step builds all four from its masters
        if (env.guards.some((g) => g.path === w.path && g.negate && (g.test === '-e' || g.test === '-f'))) note(cx, `${w.path} seeded when absent: the accounts step writes it from base-passwd's masters`);
        else cx.out.push(...withGuards(env, [{ kind: 'opaque', text: n.text, reason: `${name} writes the account database ${w.path} at line ${n.line}` }]));
      } else {
        cx.out.push(...withGuards(env, [w]));
        cx.createdFiles.add(w.path);
      }
      return { status: typeof w === 'string' || name !== 'echo' ? null : true, exited: false };
    }
  }
  // `:` and `true` print nothing: their redirections only create files
  const redirsOk = checkRedirs(n.redirs, env, cx, n.text, (name === ':' || name === 'true') && !cx.funcs.has(name));
  const heredoc = n.redirs.find((r) => r.op === '<<' || r.op === '<<-')?.heredoc;
  const fn = cx.funcs.get(name);
  if (fn) {
    if (!redirsOk) return { status: null, exited: false };
    return callFunction(name, fn, argv.slice(1), env, cx, n);
  }
  const cmd: Cmd = { name, args: argv.slice(1).map(one), alts: argv.slice(1), text: n.text, line: n.line, heredoc, stdinRedirected: n.redirs.some((r) => r.op === '<') };
  // each word one field: an argument's `$(stat …)` can be told apart
  if (argv.length === n.words.length) {
    const st = n.words.slice(1).map(statWord);
    if (st.some((x) => x !== null)) cmd.stat = st;
  }
  const r = classifyCommand(cmd, env, cx);
  if (redirsOk) cx.out.push(...withGuards(env, r.actions));
  return { status: r.status, exited: r.exit === true };
}

/**
 * A word made of `$(stat -L -c %a|%u|%g /PATH)` and literal text (`$(stat …):$(stat …)`): what only the
 * image as shipped answers, for mkdir/chmod/chown/chgrp to give as `like`. Null when the word has none,
 * or anything else. -L: the path's links followed, as the linker does.
 */
function statWord(w: Word): StatWord | null {
  const out: StatWord = [];
  let refs = 0;
  for (const p of w.parts) {
    if (p.t === 'lit') out.push(p.v);
    else if (p.t === 'cmdsub') {
      const t = p.text.trim().split(/\s+/).map((x) => x.replace(/^(['"])(.*)\1$/, '$2'));
      if (t[0] !== 'stat' || t.length !== 5) return null;
      const opts = t.slice(1, 4);
      const c = opts.indexOf('-c');
      const fmt = c >= 0 ? /^%([aug])$/.exec(opts[c + 1] ?? '')?.[1] : undefined;
      if (!fmt || !opts.some((x) => x === '-L' || x === '--dereference') || opts.length !== 3) return null;
      const path = t[4]!;
      if (!path.startsWith('/') || /[*?[$`\\]/.test(path)) return null;
      out.push({ fmt: fmt as 'a' | 'u' | 'g', path: path.length > 1 ? path.replace(/\/+$/, '') : path });
      refs++;
    } else return null;
  }
  return refs ? out : null;
}

const OUTPUT_OPS = new Set(['>', '>>', '>|']);
const ACCOUNT_DB = new Set(['/etc/passwd', '/etc/group', '/etc/shadow', '/etc/gshadow']);

/**
 * `cat > F <<EOF`, `cat A >> F`, `cat /dev/null > F`, `echo … > F`: a file whose content the
 * script fixes. Null when the command is not such a write (no output redirection to a
 * file); a reason string when it is one weld cannot type.
 */
function writeOf(n: Extract<Node, { t: 'simple' }>, name: string, argv: Val[], env: Env, cx: Ctx): Extract<Action, { kind: 'write' }> | string | null {
  const outs = n.redirs.filter((r) => (OUTPUT_OPS.has(r.op) || r.op === '&>' || r.op === '<>') && !QUIET_TARGETS.test(one(expandJoined(r.target, env, cx)) ?? r.target.raw));
  if (outs.length !== 1) return null;
  const r = outs[0]!;
  if (!OUTPUT_OPS.has(r.op) || (r.fd !== null && r.fd !== 1)) return null;
  const target = one(expandJoined(r.target, env, cx));
  const path = target === null ? null : absPath(target, env);
  if (path === null) return `${name} writes to "${r.target.raw}", a path weld cannot resolve`;
  if (path.endsWith('/')) return `${name} writes to the directory path "${path}"`;
  const cm = createMode(env);
  if (cm === null) return `${name} writes ${path} under an unknown umask`;
  const args = argv.slice(1).map(one);
  if (args.some((a) => a === null)) return `${name} writes ${path} with content weld cannot resolve`;
  const a = args as string[];
  const parts: Extract<Action, { kind: 'write' }>['parts'] = [];
  if (name === 'sed') {
    const sed = sedWrite(a, path, env);
    if (typeof sed === 'string') return sed;
    parts.push(sed);
  } else if (name === 'echo') {
    // dash's echo expands backslash escapes and bash's does not: only plain text is the same in both
    const noNl = a[0] === '-n';
    const words = noNl ? a.slice(1) : a;
    if (words[0] === '-e' || words[0] === '-E' || words.some((x) => x.includes('\\'))) return `echo writes ${path} with backslashes or -e, which dash and bash print differently`;
    parts.push({ text: words.join(' ') + (noNl ? '' : '\n') });
  } else {
    const stdin = n.redirs.find((x) => x.op === '<' || x.op === '<<' || x.op === '<<-');
    const files = a.length ? a : ['-'];
    for (const f of files) {
      if (f === '-') {
        if (!stdin) return `cat writes ${path} from its standard input, which is the script's`;
        if (stdin.op === '<') {
          const from = one(expandJoined(stdin.target, env, cx));
          const abs = from === null ? null : absPath(from, env);
          if (abs === null) return `cat writes ${path} from "${stdin.target.raw}", a path weld cannot resolve`;
          if (abs !== '/dev/null') parts.push({ file: abs });
          continue;
        }
        const body = expandHeredoc(stdin.heredoc ?? '', /['"\\]/.test(stdin.target.raw), env, cx);
        if (body === null) return `cat writes ${path} from a here-document whose expansions weld cannot resolve`;
        parts.push({ text: body });
        continue;
      }
      if (f.startsWith('-')) return `cat ${f} writes ${path} through an option weld does not model`;
      const abs = absPath(f, env);
      if (abs === null) return `cat writes ${path} from "${f}", a path weld cannot resolve`;
      if (abs !== '/dev/null') parts.push({ file: abs });
    }
  }
  // adjacent texts are one
  const merged: typeof parts = [];
  for (const p of parts) {
    const last = merged[merged.length - 1];
    if (last && 'text' in last && 'text' in p) last.text += p.text;
    else merged.push({ ...p });
  }
  const w: Extract<Action, { kind: 'write' }> = { kind: 'write', path, append: r.op === '>>', parts: merged };
  if (cm !== undefined) w.createMode = cm;
  return w;
}

/**
 * `sed SCRIPT FILE > OUT`: FILE as sed prints it, when the script is only `s` and `/RE/d`
 * commands weld applies exactly; one input file (sed joins several into one stream).
 */
function sedWrite(args: string[], path: string, env: Env): Extract<Action, { kind: 'write' }>['parts'][number] | string {
  // -n prints only what `p` asks for
  if (args.some((x) => x === '--quiet' || x === '--silent' || /^-[a-zA-Z]*n/.test(x))) return `sed -n writes ${path} with only what its script prints`;
  const cl = sedCommandLine(args);
  if (typeof cl === 'string') return `sed writes ${path}: ${cl}`;
  if (cl.inPlace) return `sed -i with its output redirected to ${path}`;
  const sc = readSedScript(cl.script, cl.ere);
  if (typeof sc === 'string') return `sed writes ${path} with the script ${JSON.stringify(cl.script)}: ${sc}`;
  if (sc.sideEffect) return `sed writes ${path}, and ${sc.sideEffect}`;
  if (typeof sc.substs === 'string') return `sed writes ${path} with the script ${JSON.stringify(cl.script)}: ${sc.substs}`;
  if (cl.files.length !== 1 || cl.files[0] === '-') return `sed writes ${path} from ${cl.files.length ? 'several inputs' : 'its standard input'}`;
  const from = absPath(cl.files[0]!, env);
  if (from === null) return `sed writes ${path} from "${cl.files[0]}", a path weld cannot resolve`;
  return sc.substs.length ? { file: from, edits: sc.substs } : { file: from };
}

/**
 * A here-document's text as the shell gives it (XCU 2.7.4): with a quoted delimiter
 * as written; otherwise `\$`, `\``, `\\` and backslash-newline are unescaped and
 * parameters expanded. Null when an expansion is unknown or a command substitution.
 */
function expandHeredoc(body: string, quoted: boolean, env: Env, cx: Ctx): string | null {
  if (quoted) return body;
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '\\') {
      const nx = body[i + 1];
      if (nx === '$' || nx === '`' || nx === '\\') {
        out += nx;
        i++;
      } else if (nx === '\n') i++;
      else out += c;
      continue;
    }
    if (c === '`') return null;
    if (c !== '$') {
      out += c;
      continue;
    }
    let end: number;
    if (body[i + 1] === '{') {
      end = body.indexOf('}', i);
      if (end < 0 || body.slice(i + 2, end).includes('{')) return null;
      end++;
    } else if (body[i + 1] === '(') return null;
    else {
      const m = /^([A-Za-z_][A-Za-z0-9_]*|[0-9#?$!@*-])/.exec(body.slice(i + 1));
      if (!m) {
        out += c;
        continue;
      }
      end = i + 1 + m[1]!.length;
    }
    const w = parseWordText('"' + body.slice(i, end) + '"', 0);
    const v = one(expandJoined(w, env, cx));
    if (v === null) return null;
    out += v;
    i = end - 1;
  }
  return out;
}

function callFunction(name: string, body: Node, args: Val[], env: Env, cx: Ctx, n: Extract<Node, { t: 'simple' }>): Flow {
  if (cx.callDepth >= MAX_CALL_DEPTH) {
    cx.out.push(...withGuards(env, [{ kind: 'opaque', text: n.text, reason: `function "${name}" nests deeper than ${MAX_CALL_DEPTH} calls at line ${n.line}` }]));
    return { status: null, exited: false };
  }
  cx.called.add(name);
  const saved = { pos: env.pos, posUnknown: env.posUnknown, guards: env.guards };
  env.pos = args;
  env.posUnknown = false;
  cx.callDepth++;
  // `return` ends only the function: its flow stops here
  const depth = cx.callDepth;
  const f = run(body, env, cx);
  const returned = cx.returned.delete(depth);
  cx.callDepth--;
  env.pos = saved.pos;
  env.posUnknown = saved.posUnknown;
  // a test the function returned early on holds only inside it
  env.guards = saved.guards;
  return { status: f.status, exited: f.exited && !returned };
}
