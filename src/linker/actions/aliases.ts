/**
 * The mail aliases database as first-boot state: postfix's postinst runs
 * newaliases, whose Berkeley DB hash file (/etc/aliases.db) differs between
 * two runs on the same /etc/aliases (checked with bookworm's postalias: 13
 * bytes differ), so no generator can make it reproducibly. A generated unit
 * makes it before the mail server starts, when it is missing.
 */
export const NEWALIASES_UNIT = 'weld-newaliases.service';
/** the mail server's unit, and the units to start before: Debian's postfix.service is an umbrella, postfix@-.service the default instance */
export const MAIL_SERVER = 'postfix.service';
export const MAIL_BEFORE = ['postfix.service', 'postfix@-.service'];

export function newaliasesUnit(tool: string, db: string): string {
  return [
    '# Made by weld: newaliases output is not reproducible (Berkeley DB), so the aliases database is made at first boot.',
    '[Unit]',
    'Description=Mail aliases database, made at first boot',
    'Documentation=man:newaliases(1)',
    'After=local-fs.target',
    `Before=${MAIL_BEFORE.join(' ')}`,
    `ConditionPathExists=!${db}`,
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    `ExecStart=${tool}`,
    '',
    '[Install]',
    `WantedBy=${MAIL_SERVER}`,
    '',
  ].join('\n');
}
