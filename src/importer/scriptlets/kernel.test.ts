import { describe, expect, it } from 'vitest';
import { classifyScriptlet } from './index.js';
import type { Action } from '../../model.js';

const classify = (body: string, phase = 'postinst'): Action[] => classifyScriptlet({ format: 'deb', phase, interpreter: '/bin/sh', body });

// linux-image-6.1.0-*-amd64's maintainer scripts, as bookworm ships them
const POSTINST = `#!/bin/sh -e

version=6.1.0-57-amd64
image_path=/boot/vmlinuz-$version

if [ "$1" != configure ]; then
    exit 0
fi

depmod $version

if [ -f /lib/modules/$version/.fresh-install ]; then
    change=install
else
    change=upgrade
fi
linux-update-symlinks $change $version $image_path
rm -f /lib/modules/$version/.fresh-install

if [ -d /etc/kernel/postinst.d ]; then
    DEB_MAINT_PARAMS="$*" run-parts --report --exit-on-error --arg=$version \\
	      --arg=$image_path /etc/kernel/postinst.d
fi

exit 0
`;

describe("the kernel package's scripts (system.ts), on bookworm's real postinst", () => {
  it('links /vmlinuz and /initrd.img (and their .old twins) at the one kernel, and runs the postinst.d hooks', () => {
    const a = classify(POSTINST).filter((x) => x.kind === 'symlink' || x.kind === 'cache' || x.kind === 'opaque' || x.kind === 'generate');
    expect(a.map((x) => (x.kind === 'generate' ? `${x.kind} ${x.generator}` : x.kind))[0]).toBe('generate depmod');
    expect(a.slice(1)).toEqual([
      ...['/vmlinuz', '/vmlinuz.old'].map((path) => ({ kind: 'symlink', path, target: 'boot/vmlinuz-6.1.0-57-amd64', force: true })),
      ...['/initrd.img', '/initrd.img.old'].map((path) => ({ kind: 'symlink', path, target: 'boot/initrd.img-6.1.0-57-amd64', force: true })),
      { kind: 'cache', tool: 'run-parts', args: ['/etc/kernel/postinst.d', '6.1.0-57-amd64'] },
    ]);
  });

  it('on removal: no links, no hooks, no questions', () => {
    const body = 'version=6.1.0-57-amd64\nimage_path=/boot/vmlinuz-$version\nlinux-check-removal $version\nlinux-update-symlinks remove $version $image_path\nrun-parts --report --arg=$version /etc/kernel/prerm.d\n';
    expect(classify(body, 'prerm').filter((x) => x.kind !== 'noop')).toEqual([]);
  });

  it('an image it cannot resolve, or run-parts of another directory, stays opaque', () => {
    expect(classify('linux-update-symlinks install $1 $2').map((x) => x.kind)).toEqual(['opaque']);
    expect(classify('run-parts /etc/cron.daily').map((x) => x.kind)).toEqual(['opaque']);
  });
});

describe('a condition of several file tests', () => {
  // klibc-utils' postinst: replace a file by a link only where it is not a link already
  const body = 'if [ ! -L /usr/lib/klibc/bin/x ] && [ -e /usr/lib/klibc/bin/x ]; then\n  ln -sf y /usr/lib/klibc/bin/x\nfi\n';
  it('guards the body with every test, as a conjunction', () => {
    expect(classify(body).filter((a) => a.kind === 'symlink')).toEqual([
      { kind: 'symlink', path: '/usr/lib/klibc/bin/x', target: 'y', force: true, when: [{ test: '-L', path: '/usr/lib/klibc/bin/x', negate: true }, { test: '-e', path: '/usr/lib/klibc/bin/x', negate: false }] },
    ]);
  });
  it('a decided part decides the whole: false skips the body', () => {
    expect(classify('if [ "$1" = remove ] && [ -e /etc/x ]; then\n  ln -sf y /etc/x\nfi\n').filter((a) => a.kind === 'symlink')).toEqual([]);
  });
});
