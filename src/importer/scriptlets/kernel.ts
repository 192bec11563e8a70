/**
 * The kernel package's maintainer scripts (linux-image-*): its symlinks in /,
 * its hook directories and its removal checks.
 */
import type { Action } from '../../model.js';
import type { Cmd, Result } from './commands.js';
import type { Ctx, Env } from './values.js';

const REMOVAL = /^(prerm|postrm|preun|postun)$/;
const noop = (what: string): Result => ({ actions: [{ kind: 'noop', what }], status: null });
const opaque = (c: Cmd, reason: string): Result => ({ actions: [{ kind: 'opaque', text: c.text, reason: `${reason} at line ${c.line}` }], status: null });

/**
 * linux-update-symlinks install|upgrade VERSION IMAGE: with no
 * /etc/kernel-img.conf (Debian ships none), links in / named after the image
 * (vmlinuz) and its initramfs, each with an `.old` twin; on a first install
 * both point at the one kernel.
 */
function updateSymlinks(c: Cmd, cx: Ctx): Result {
  const [change, version, image] = c.args;
  if (REMOVAL.test(cx.phase) || change === 'remove') return noop('linux-update-symlinks on package removal');
  const changes = change ? [change] : c.alts[0];
  if (!changes || !changes.every((x) => x === 'install' || x === 'upgrade')) return opaque(c, 'linux-update-symlinks with an unknown change');
  if (!version || !image || !image.startsWith('/boot/')) return opaque(c, 'cannot resolve the version or image of linux-update-symlinks');
  const kind = /^([a-zA-Z]+)-/.exec(image.slice('/boot/'.length))?.[1];
  if (!kind) return opaque(c, `linux-update-symlinks of an image named "${image}"`);
  const links: Action[] = [];
  for (const [name, target] of [[kind, image.slice(1)], ['initrd.img', `boot/initrd.img-${version}`]] as const) {
    for (const suffix of ['', '.old']) links.push({ kind: 'symlink', path: `/${name}${suffix}`, target, force: false });
  }
  return { actions: links, status: true };
}

/** run-parts of /etc/kernel/*.d: the hooks other packages drop there (initramfs-tools makes the initramfs) */
function runParts(c: Cmd, cx: Ctx): Result | null {
  const dir = c.args.filter((a) => a !== null && !a.startsWith('-')).at(-1);
  if (!dir || !/^\/etc\/kernel\/[a-z]+\.d$/.test(dir)) return null;
  if (REMOVAL.test(cx.phase) || /\/(prerm|postrm)\.d$/.test(dir)) return noop(`kernel hooks ${dir} on package removal`);
  // weld makes the boot's initramfs itself (weld initramfs), from the linked image
  return { actions: [{ kind: 'cache', tool: 'kernel-hooks', args: [dir] }], status: true };
}

export const KERNEL_COMMANDS: Record<string, (c: Cmd, env: Env, cx: Ctx) => Result | null> = {
  'linux-update-symlinks': (c, _e, cx) => updateSymlinks(c, cx),
  'linux-check-removal': () => noop('linux-check-removal (asks before removing the running kernel)'),
  'run-parts': (c, _e, cx) => runParts(c, cx),
};
