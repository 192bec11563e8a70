/** ar(5) layout: the common System V / GNU / BSD archive. */
export const AR_MAGIC = '!<arch>\n';
export const AR_MAGIC_LEN = 8;
export const AR_HEADER_LEN = 60;
/** member header fields: [offset, length], as ar.h names them */
export const AR_FIELD = {
  ar_name: [0, 16],
  ar_date: [16, 12],
  ar_uid: [28, 6],
  ar_gid: [34, 6],
  ar_mode: [40, 8],
  ar_size: [48, 10],
  ar_fmag: [58, 2],
} as const;
export const AR_FMAG = '`\n';
/** BSD 4.4 stores long names after the header: `#1/<len>` */
export const BSD_LONGNAME_PREFIX = '#1/';
