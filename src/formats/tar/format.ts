/** POSIX ustar / GNU tar header layout (POSIX.1-2001 pax, GNU tar manual "Standard"). */
export const BLOCK = 512;
/** header fields: [offset, length], as the ustar spec names them */
export const TAR_FIELD = {
  name: [0, 100],
  mode: [100, 8],
  uid: [108, 8],
  gid: [116, 8],
  size: [124, 12],
  mtime: [136, 12],
  chksum: [148, 8],
  typeflag: [156, 1],
  linkname: [157, 100],
  magic: [257, 6],
  version: [263, 2],
  uname: [265, 32],
  gname: [297, 32],
  devmajor: [329, 8],
  devminor: [337, 8],
  prefix: [345, 155],
} as const;
export type TarField = keyof typeof TAR_FIELD;

/** "ustar\0" + "00": POSIX; "ustar  \0": old GNU (no prefix field) */
export const USTAR_MAGIC = 'ustar\u000000';
export const GNU_MAGIC = 'ustar  \u0000';

export const TYPE = {
  file: '0',
  fileOld: '\u0000',
  hardlink: '1',
  symlink: '2',
  char: '3',
  block: '4',
  dir: '5',
  fifo: '6',
  contiguous: '7',
  paxLocal: 'x',
  paxGlobal: 'g',
  gnuLongName: 'L',
  gnuLongLink: 'K',
} as const;

export const GNU_LONGLINK_NAME = '././@LongLink';
