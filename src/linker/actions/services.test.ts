import { describe, expect, it } from 'vitest';
import { LinkTree } from '../tree.js';
import { applyServices, applyVariantServices } from './services.js';
import { parseVariant } from '../variant.js';

/** a merged-/usr tree with these unit files, presets and (optionally) systemctl */
function tree(files: Record<string, string>, systemctl: boolean): LinkTree {
  const t = new LinkTree(0);
  t.mkdir('/usr/lib', 'test');
  t.symlink('/lib', 'usr/lib', 'test');
  for (const [p, body] of Object.entries(files)) body.startsWith('->') ? t.symlink(p, body.slice(2), 'test') : t.writeFile(p, body, 'test');
  if (systemctl) t.writeFile('/usr/bin/systemctl', 'ELF', 'test', 0o755);
  return t;
}
const read = (t: LinkTree) => (p: string) => {
  const n = t.get(p);
  return n?.data ? Buffer.from(n.data).toString('utf8') : undefined;
};
const links = (t: LinkTree) => [...t.nodes].filter(([p, n]) => n.type === 'symlink' && p.startsWith('/etc/systemd/')).map(([p, n]) => `${p} -> ${n.target}`).sort();

const UNITS = {
  '/usr/lib/systemd/system/foo.service': '[Service]\nExecStart=/bin/foo\n[Install]\nWantedBy=multi-user.target\nAlias="foo-alias.service"\nAlso=foo.socket\n',
  '/usr/lib/systemd/system/foo.socket': '[Socket]\nListenStream=1\n[Install]\nWantedBy=sockets.target\n',
  '/usr/lib/systemd/system/bar.service': '[Service]\nExecStart=/bin/bar\n[Install]\nWantedBy=multi-user.target\n',
  '/usr/lib/systemd/system/bar-alias.service': '->bar.service',
  '/usr/lib/systemd/system/tpl@.service': '[Service]\nExecStart=/bin/tpl %i\n[Install]\nWantedBy=multi-user.target\nDefaultInstance=one\n',
  '/usr/lib/systemd/system-preset/90-test.preset': 'disable bar.service\n',
};

describe('applyServices', () => {
  it('deb-systemd-helper without systemctl links units itself, presets aside, targets as found under /lib', () => {
    const t = tree(UNITS, false);
    applyServices(t, [{ op: 'preset', units: ['foo.service', 'bar.service', 'tpl@.service'] }], read(t));
    expect(links(t)).toEqual([
      '/etc/systemd/system/foo-alias.service -> /lib/systemd/system/foo.service',
      '/etc/systemd/system/multi-user.target.wants/bar.service -> /lib/systemd/system/bar.service',
      '/etc/systemd/system/multi-user.target.wants/foo.service -> /lib/systemd/system/foo.service',
      '/etc/systemd/system/multi-user.target.wants/tpl@one.service -> /lib/systemd/system/tpl@.service',
      '/etc/systemd/system/sockets.target.wants/foo.socket -> /lib/systemd/system/foo.socket',
    ]);
  });

  it('with systemctl, a preset honours the preset files and passes over alias names; enable follows an alias', () => {
    const t = tree(UNITS, true);
    const r = applyServices(t, [{ op: 'preset', units: ['foo.service', 'bar.service', 'bar-alias.service'] }], read(t));
    expect(links(t)).toEqual([
      '/etc/systemd/system/foo-alias.service -> /lib/systemd/system/foo.service',
      '/etc/systemd/system/multi-user.target.wants/foo.service -> /lib/systemd/system/foo.service',
      '/etc/systemd/system/sockets.target.wants/foo.socket -> /lib/systemd/system/foo.socket',
    ]);
    expect(r.disabled).toEqual(['bar-alias.service (an alias of bar.service)', 'bar.service (preset)']);
    const e = tree(UNITS, true);
    applyServices(e, [{ op: 'enable', units: ['bar-alias.service'] }], read(e));
    expect(links(e)).toEqual(['/etc/systemd/system/multi-user.target.wants/bar.service -> /lib/systemd/system/bar.service']);
  });
});

describe('disable and the variant\'s [services]', () => {
  it('disable removes the links naming the unit and its Also= units, after the enable made them', () => {
    const t = tree(UNITS, true);
    const r = applyServices(t, [{ op: 'preset', units: ['foo.service', 'tpl@.service'] }, { op: 'disable', units: ['foo.service', 'bar.service'] }], read(t));
    expect(links(t)).toEqual(['/etc/systemd/system/multi-user.target.wants/tpl@one.service -> /lib/systemd/system/tpl@.service']);
    expect(r.enabled).toEqual(['tpl@one.service']);
    expect(r.disabled).toEqual(['bar.service (not enabled)', 'foo.service', 'foo.socket']);
  });

  it('a variant enables and disables after the packages, and a unit no package ships is an error naming it', () => {
    const t = tree(UNITS, true);
    const r = applyServices(t, [{ op: 'preset', units: ['foo.service'] }], read(t));
    applyVariantServices(t, parseVariant({ format: 'deb', packages: ['x'], services: { enable: ['bar'], disable: ['foo.socket'] } }, 'v.toml').services, read(t), 'v', r);
    expect(links(t)).toEqual([
      '/etc/systemd/system/foo-alias.service -> /lib/systemd/system/foo.service',
      '/etc/systemd/system/multi-user.target.wants/bar.service -> /lib/systemd/system/bar.service',
      '/etc/systemd/system/multi-user.target.wants/foo.service -> /lib/systemd/system/foo.service',
    ]);
    expect(r.enabled).toEqual(['bar.service', 'foo.service']);
    expect(() => applyVariantServices(t, { enable: ['nginx.service'], disable: [] }, read(t), 'v', r)).toThrow(/Variant v enables unit nginx\.service, which no package in its closure ships/);
    expect(() => applyVariantServices(t, { enable: [], disable: ['gone'] }, read(t), 'v', r)).toThrow(/disables unit gone\.service/);
  });

  it('[services] keys are checked when the variant is read', () => {
    const v = (services: unknown) => () => parseVariant({ format: 'deb', packages: ['x'], services }, 'v.toml');
    expect(v({ start: ['a'] })).toThrow(/services\.start is not a services key/);
    expect(v({ enable: 'a' })).toThrow(/services\.enable must be a list of strings/);
    expect(v({ enable: ['a b'] })).toThrow(/not a unit name/);
    expect(v({ enable: ['a'], disable: ['a'] })).toThrow(/both enables and disables a/);
    expect(parseVariant({ format: 'deb', packages: ['x'] }, 'v.toml').services).toEqual({ enable: [], disable: [] });
  });
});
