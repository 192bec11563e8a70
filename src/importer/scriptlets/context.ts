import type { Env, Val } from './values.js';

export interface PhaseContext {
  /** positional parameters; null = unknown */
  pos: Val[] | null;
  /** said in notes about pruned branches */
  assumption: string;
}

/**
 * How each phase would be called when a package is installed fresh into an
 * image (deb-maintscripts(5) / Debian Policy 6.5; rpm: $1 is the number of
 * instances left after the operation). Removal phases are walked as a plain
 * removal; postrm also as purge.
 */
export function phaseContext(format: 'rpm' | 'deb', phase: string): PhaseContext {
  if (format === 'deb') {
    switch (phase) {
      case 'preinst':
        return { pos: [['install']], assumption: 'fresh install: preinst install' };
      case 'postinst':
      case 'config':
        return { pos: [['configure']], assumption: `fresh install: ${phase} configure` };
      case 'prerm':
        return { pos: [['remove']], assumption: 'removal: prerm remove' };
      case 'postrm':
        return { pos: [['remove', 'purge']], assumption: 'removal: postrm remove or purge' };
      default:
        return { pos: null, assumption: `${phase} with unknown arguments` };
    }
  }
  switch (phase) {
    case 'pre':
    case 'post':
    case 'prein':
    case 'postin':
      return { pos: [['1']], assumption: `fresh install: %${phase} with $1 = 1` };
    case 'preun':
    case 'postun':
      return { pos: [['0']], assumption: `erase: %${phase} with $1 = 0` };
    case 'pretrans':
    case 'posttrans':
    case 'preuntrans':
    case 'postuntrans':
    case 'verify':
      return { pos: [], assumption: `%${phase} without arguments` };
    default:
      return { pos: null, assumption: `%${phase} with unknown arguments` };
  }
}

/**
 * Debugging switches a developer exports by hand; an installer's environment never sets them
 * (mariadb's `${DEBIAN_SCRIPT_TRACE:+ echo …}`), so a script sees them unset.
 */
const UNSET_IN_INSTALL = ['DEBIAN_SCRIPT_DEBUG', 'DEBIAN_SCRIPT_TRACE'];

/** DPKG_ROOT is empty: weld treats the image root as / for every script */
export function initialEnv(ctx: PhaseContext): Env {
  return {
    // ' umask' and ' cwd' (names no script can spell): package managers run scripts under umask 022, from /
    vars: new Map<string, Val>([['DPKG_ROOT', ['']], ['IFS', [' \t\n']], [' umask', ['022']], [' cwd', ['/']], ...UNSET_IN_INSTALL.map((n): [string, Val] => [n, ['']])]),
    pos: ctx.pos ?? [],
    posUnknown: ctx.pos === null,
    guards: [],
  };
}
