import { describe, expect, it } from 'vitest';
import { LinkTree } from '../tree.js';
import { usrPath } from '../usrmerge.js';
import { applyFirstboot } from './firstboot.js';
import { MARIADB_DATADIR_UNIT } from './mariadb.js';
import { NEWALIASES_UNIT } from './aliases.js';
import type { Action } from '../../model.js';

type Fb = Extract<Action, { kind: 'firstboot' }>;
const datadir: Fb = { kind: 'firstboot', what: 'mariadb-datadir', tool: 'mysql_install_db', paths: ['/var/lib/mysql'] };
const aliases: Fb = { kind: 'firstboot', what: 'mail-aliases', tool: 'runnewaliases', paths: ['/etc/aliases.db'] };
const text = (t: LinkTree, p: string) => Buffer.from(t.get(p)!.data!).toString();

function serverTree(): LinkTree {
  const t = new LinkTree(0);
  t.writeFile('/usr/lib/systemd/system/mariadb.service', '[Service]\nExecStart=/usr/sbin/mariadbd\n', 'mariadb-server');
  t.symlink('/usr/lib/systemd/system/mysql.service', 'mariadb.service', 'mariadb-server');
  t.writeFile('/usr/bin/mariadb-install-db', '#!/bin/sh\n', 'mariadb-server', 0o755);
  t.writeFile('/usr/lib/systemd/system/postfix.service', '[Service]\nExecStart=/bin/true\n', 'postfix');
  t.writeFile('/usr/sbin/sendmail', 'elf', 'postfix', 0o755);
  t.symlink('/usr/bin/newaliases', '../sbin/sendmail', 'postfix');
  return t;
}

describe('first-boot data of servers', () => {
  it("makes MariaDB's data directory before the server, when its system tables are missing", () => {
    const t = serverTree();
    const r = applyFirstboot(t, [{ pkg: 'mariadb-server', a: datadir }], { name: 'v', layout: { writable: ['/etc', '/var'] } }, usrPath);
    expect(r.units).toEqual([MARIADB_DATADIR_UNIT]);
    const unit = text(t, `/usr/lib/systemd/system/${MARIADB_DATADIR_UNIT}`);
    expect(unit).toContain('Before=mariadb.service\n');
    expect(unit).toContain('ConditionPathExists=!/var/lib/mysql/mysql\n');
    expect(unit).toContain('ExecStart=/usr/bin/mariadb-install-db --rpm --cross-bootstrap --user=mysql --disable-log-bin --skip-test-db --datadir=/var/lib/mysql\n');
    expect(t.get(`/etc/systemd/system/mariadb.service.wants/${MARIADB_DATADIR_UNIT}`)!.target).toBe(`/usr/lib/systemd/system/${MARIADB_DATADIR_UNIT}`);
    // nothing of the data directory is in the image
    expect([...t.nodes.keys()].filter((p) => p.startsWith('/var/lib/mysql'))).toEqual([]);
  });

  it('makes /etc/aliases.db before postfix, when it is missing', () => {
    const t = serverTree();
    const r = applyFirstboot(t, [{ pkg: 'postfix', a: aliases }], { name: 'v', layout: { writable: [] } }, usrPath);
    expect(r.units).toEqual([NEWALIASES_UNIT]);
    const unit = text(t, `/usr/lib/systemd/system/${NEWALIASES_UNIT}`);
    expect(unit).toContain('Before=postfix.service postfix@-.service\n');
    expect(unit).toContain('ConditionPathExists=!/etc/aliases.db\n');
    expect(unit).toContain('ExecStart=/usr/bin/newaliases\n');
    expect(t.get(`/etc/systemd/system/postfix.service.wants/${NEWALIASES_UNIT}`)).toBeDefined();
  });

  it('defers without the server, and refuses a read-only place for the data', () => {
    const t = new LinkTree(0);
    const r = applyFirstboot(t, [{ pkg: 'mariadb-server', a: datadir }, { pkg: 'postfix', a: aliases }], { name: 'v', layout: { writable: [] } }, usrPath);
    expect(r.units).toEqual([]);
    expect(r.deferred.map((d) => d.what)).toEqual(['mariadb-datadir', 'mail-aliases']);
    expect(() => applyFirstboot(serverTree(), [{ pkg: 'mariadb-server', a: datadir }], { name: 'ro', layout: { writable: ['/tmp'] } }, usrPath)).toThrow(/Variant ro has a MariaDB server.*add "\/var"/);
  });
});
