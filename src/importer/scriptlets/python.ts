/**
 * Python bytecode steps of Debian maintainer scripts. dh_python3's postinst
 * runs `py3compile -p PKG` (the package's public modules) and, when PyPy is
 * there, `pypy3compile -p PKG`; python3 and python3-minimal compile their
 * private modules with `py3compile -p PKG DIR`; python3.X-minimal and
 * python3.X compile the standard library with
 * `/usr/bin/python3.X -E -S /usr/lib/python3.X/py_compile.py $files`, where
 * `files=$(dpkg -L libpython3.X-… | sed -n '/^\/usr\/lib\/python3.X\/.*\.py$/p')`.
 * Each becomes a `bytecode` generator (src/linker/generators/bytecode.ts),
 * whose inputs name the package whose .py files it compiles, so a package
 * no script compiles gets no bytecode. Removal-time cleaners (py3clean, and
 * dh_python3's fallbacks through sed or perl) only delete bytecode.
 */
import type { Action } from '../../model.js';
import type { Cmd, Result } from './commands.js';
import type { Env } from './values.js';

type Generate = Extract<Action, { kind: 'generate' }>;

const noop = (what: string, status: boolean | null = null): Result => ({ actions: [{ kind: 'noop', what }], status });
const opaque = (c: Cmd, reason: string): Result => ({ actions: [{ kind: 'opaque', text: c.text, reason: `${reason} at line ${c.line}` }], status: null });

/** where each output goes: PEP 3147's cache directory beside its source */
const OUTPUTS = ['<dir>/__pycache__/<module>.<cache tag>.pyc'];

/**
 * The public module directories py3compile -p compiles (debpython's
 * PUBLIC_DIR_RE: /usr/lib/python3/ for every supported version,
 * /usr/lib/python3.X/ for that one; `python3.*` is the interpreter's X.Y).
 */
const PUBLIC = ['/usr/lib/python3/dist-packages/', '/usr/lib/python3/site-packages/', '/usr/lib/python3.*/dist-packages/', '/usr/lib/python3.*/site-packages/'];

/** `PKG:PREFIX`: the package's .py files whose path starts with PREFIX (`*` for any package) */
const input = (pkg: string, prefix: string): string => `${pkg}:${prefix}`;

function bytecode(tool: string, optimize: number, inputs: string[], when?: Generate['when']): Generate {
  const g: Generate = { kind: 'generate', generator: 'bytecode', tool, args: optimize ? [optimize === 1 ? '-O' : '-OO'] : [], inputs, outputs: OUTPUTS };
  if (when) g.when = when;
  return g;
}

/** py3compile(1) / pypy3compile(1): [-O] [-f] [-q] [-v] (-p PKG [DIR…] | DIR_OR_FILE…) */
function compileCmd(c: Cmd, tool: 'py3compile' | 'pypy3compile'): Result {
  if (!c.args.every((a) => a !== null)) return opaque(c, `cannot resolve the arguments of "${tool}"`);
  const args = c.args as string[];
  let pkg: string | undefined;
  let optimize = 0;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-p' || a === '--package') pkg = args[++i];
    else if (a.startsWith('--package=')) pkg = a.slice(10);
    else if (a === '-O') optimize = 1;
    else if (['-f', '--force', '-q', '--quiet', '-v', '--verbose'].includes(a)) continue;
    // -V (another interpreter range) and -X (exclusions) are not modelled
    else if (a.startsWith('-')) return opaque(c, `${tool} ${a} is not modelled`);
    else rest.push(a);
  }
  if (pkg === '') return opaque(c, `${tool} -p without a package`);
  if (pkg === undefined && !rest.length) return noop(`${tool} without arguments (prints its usage)`, false);
  // dpkg -L takes PKG:ARCH; the tree knows packages by name
  const name = pkg?.replace(/:[^:]*$/, '');
  const inputs = name === undefined ? rest.map((d) => input('*', d)) : rest.length ? rest.map((d) => input(name, d)) : PUBLIC.map((d) => input(name, d));
  if (tool === 'py3compile') return { actions: [bytecode('python3', optimize, inputs)], status: true };
  // dh_python3 runs pypy3compile only under `command -v pypy3compile`: nothing without PyPy
  return { actions: [bytecode('pypy3', optimize, inputs, [{ test: '-x', path: '/usr/bin/pypy3compile', negate: false }])], status: null };
}

/** the sed(1) filter of python3.X's postinsts: `/^\/usr\/lib\/python3.X\/.*\.py$/p` → /usr/lib/python3.X/ */
const DPKG_L_PY = /^dpkg -L ([a-z0-9][a-z0-9+.-]*)(?::[a-z0-9-]+)? \| sed -n '\/\^((?:\\\/[A-Za-z0-9_.+-]+)+\\\/)\.\*\\\.py\$\/p'(?: \| \$filt)?$/;

/**
 * `/usr/bin/python3.X -E -S [-O] /usr/lib/python3.X/py_compile.py $files`, with
 * $files the output of `dpkg -L PKG | sed -n …`, as eval.ts records it. The
 * `$filt` stage drops sitecustomize.py when its link dangles, which the
 * generator does for every dangling link.
 */
function pyCompile(c: Cmd, env: Env): Result | null {
  const words = c.text.trim().split(/\s+/);
  const script = words.findIndex((w) => /^\/usr\/lib\/python3\.\d+\/py_compile\.py$/.test(w));
  if (script < 0) return null;
  const flags = words.slice(1, script);
  if (!flags.every((f) => ['-E', '-S', '-O', '-OO', '-s', '-B'].includes(f))) return opaque(c, `${c.name} ${flags.join(' ')} is not modelled`);
  const files = words.slice(script + 1);
  const v = files.length === 1 ? /^(?:\$([A-Za-z_]\w*)|\$\{([A-Za-z_]\w*)\}|"\$([A-Za-z_]\w*)")$/.exec(files[0]!) : null;
  const name = v && (v[1] ?? v[2] ?? v[3]);
  const sub = name ? env.vars.get(` $(${name})`) : null;
  const text = sub && sub.length === 1 ? sub[0]!.replace(/\\\n/g, ' ').replace(/\s+/g, ' ').trim() : null;
  const m = text === null ? null : DPKG_L_PY.exec(text);
  if (!m) return opaque(c, `${c.name} compiles files weld cannot name (not "dpkg -L PKG | sed -n '/^DIR.*\\.py$/p'")`);
  const optimize = flags.includes('-OO') ? 2 : flags.includes('-O') ? 1 : 0;
  return { actions: [bytecode(c.name, optimize, [input(m[1]!, m[2]!.replace(/\\\//g, '/'))])], status: true };
}

/** dh_python3's prerm without py3clean: `dpkg -L PKG | sed -En -e '…rm "\1/__pycache__/\2".*,e'` or perl's unlink of the same glob */
const CLEAN_SED = /^sed -En -e '\/\^\(\.\*\)\\\/\(\.\+\)\\\.py\$\/s,,rm "\\1\/__pycache__\/\\2"\.\*,e'$/;
const CLEAN_PERL = /^perl -ne 's,\/\(\[\^\/\]\*\)\\\.py\$,\/__pycache__\/\\1\.\*, or next; unlink \$_ or die \$! foreach glob\(\$_\)'$/;

/** Python's steps, or null when the command is not one of them. */
export function pythonCommand(c: Cmd, env: Env): Result | null {
  const name = c.name.slice(c.name.lastIndexOf('/') + 1);
  if (name === 'py3compile' || name === 'pypy3compile') return compileCmd(c, name);
  if (name === 'py3clean' || name === 'pyclean' || name === 'pypy3clean') return noop(`${name} (removes bytecode)`, true);
  // python3's rtupdate and python3.X's rtinstall/rtremove hooks recompile or remove other packages'
  // bytecode when the default interpreter changes; on a first install each package's own postinst compiles it
  if (/^(\/usr\/share\/python3\/runtime\.d\/)?[^/]*\.(rtupdate|rtinstall|rtremove)$/.test(c.name)) return noop(`${name} hook (bytecode for an interpreter change)`, true);
  if (/^python3\.\d+$/.test(name)) return pyCompile(c, env);
  const text = c.text.trim();
  if (name === 'sed' && CLEAN_SED.test(text)) return noop('sed … rm __pycache__ (removes bytecode)', true);
  if (name === 'perl' && CLEAN_PERL.test(text)) return noop('perl … unlink __pycache__ (removes bytecode)', true);
  // python3.X's postinsts compile -O bytecode too when debian_config asks; a fresh install's says `standard`
  if (name === 'grep' && /^grep -sq '\^byte-compile\[\^#\]\*optimize' \/etc\/python3?\/debian_config$/.test(text)) {
    return noop('grep debian_config for byte-compile = optimize (a fresh install says standard)', false);
  }
  return null;
}
