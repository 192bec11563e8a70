/**
 * MariaDB's data directory as first-boot state: mariadb-server's postinst runs
 * mysql_install_db, whose system tables hold the server's own accounts, so an
 * image carries none and a generated unit makes them before the server starts.
 */
import type { LinkTree } from '../tree.js';

export const MARIADB_DATADIR_UNIT = 'weld-mariadb-install-db.service';
/** the servers' units, as mariadb-server ships them (mysql.service is an alias) */
export const MARIADB_SERVERS = ['mariadb.service', 'mysql.service', 'mysqld.service'];
/**
 * mariadb-server's postinst's own arguments: --cross-bootstrap makes no
 * host-named accounts, --rpm leaves the server to start it, --skip-test-db no test database
 */
export const INSTALL_DB_ARGS = ['--rpm', '--cross-bootstrap', '--user=mysql', '--disable-log-bin', '--skip-test-db'];

/**
 * The unit: runs when the data directory has no `mysql` system database (the
 * postinst also leaves a debian-*.flag file there, so "empty" means that).
 */
export function mariadbDatadirUnit(tool: string, datadir: string, servers: string[]): string {
  return [
    '# Made by weld: MariaDB\'s system tables are machine state (the server\'s own accounts); mysql_install_db makes them at first boot.',
    '[Unit]',
    'Description=MariaDB data directory, made at first boot',
    'Documentation=man:mysql_install_db(1)',
    'After=local-fs.target',
    `Before=${servers.join(' ')}`,
    `ConditionPathExists=!${datadir}/mysql`,
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    // mariadb-server's postinst clears TMPDIR (Debian #1022994)
    'Environment=TMPDIR=',
    `ExecStart=${tool} ${INSTALL_DB_ARGS.join(' ')} --datadir=${datadir}`,
    '',
    '[Install]',
    `WantedBy=${servers.join(' ')}`,
    '',
  ].join('\n');
}

/** the server units the tree has as regular files (aliases are links) */
export function mariadbServers(tree: LinkTree, unitFile: (name: string) => string | undefined): string[] {
  return MARIADB_SERVERS.filter((u) => unitFile(u) && tree.get(unitFile(u)!)?.type === 'file');
}
