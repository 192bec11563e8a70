/**
 * The initramfs /init, a busybox sh script. It knows nothing about one image:
 * it reads the partition layout from the disk's GPT (busybox has no GPT tool
 * that reports type GUIDs) and the verity parameters from the verity
 * superblock, as `veritysetup open` does, and trusts only the root hash from
 * the kernel command line (`roothash=<hex>`, as systemd spells it). The
 * superblock is not authenticated, but the root hash covers everything the
 * kernel reads: a wrong salt or block count just fails verification.
 * Pure: options in, script text out.
 */
import { guidToBytes } from '../formats/gpt/guid.js';
import { DPS_X86_64 } from '../formats/ddi/index.js';

export interface InitOptions {
  /** module file names under /lib/modules in load order; optional ones may fail */
  modules: { file: string; optional: boolean }[];
  /** dm-verity optional table arguments (variant layout.verity-options) */
  verityOptions: string[];
  /** paths that get a tmpfs holding a copy of the image's content */
  writable: string[];
  /** default program to switch to when the command line names none */
  defaultInit: string;
  /** where the shared libraries of dmsetup live in the initramfs */
  libraryPath: string;
}

const gptHex = (guid: string) => Buffer.from(guidToBytes(guid)).toString('hex');
const shellWord = (s: string) => {
  if (!/^[A-Za-z0-9_./:+=,@-]*$/.test(s)) throw new Error(`not a plain shell word: ${s}`);
  return s;
};

/**
 * Shell functions that read the disk layout. `probe_ddi DISK ROOTHASH` prints
 * `ROOT_N ROOT_LBA ROOT_SECTORS VERITY_N VERITY_LBA VERITY_SECTORS`;
 * `verity_params HASHDEV OFFSET` prints the verity superblock fields. Tests run
 * them on an image file with the host's busybox.
 */
export function probeFunctions(): string {
  return `
# hex of LEN bytes at byte OFFSET (a multiple of 512) of FILE
hexat() { dd if="$1" bs=512 skip=$(($2 / 512)) count=$((($3 + 511) / 512)) 2>/dev/null | hexdump -v -e '1/1 "%02x"'; }
# little-endian unsigned hex → decimal
le() { local h="$1" r=""; while [ -n "$h" ]; do r="\${h:0:2}$r"; h="\${h:2}"; done; echo $((0x$r)); }
# GPT stores GUIDs mixed-endian: first three fields little-endian
guid_disk_hex() { local g="$1"; echo "\${g:6:2}\${g:4:2}\${g:2:2}\${g:0:2}\${g:10:2}\${g:8:2}\${g:14:2}\${g:12:2}\${g:16:16}"; }

# DDI partition types (UAPI Discoverable Partitions Specification, x86-64), as GPT stores them
ROOT_TYPE=${gptHex(DPS_X86_64.root)}
VERITY_TYPE=${gptHex(DPS_X86_64.rootVerity)}

probe_ddi() {
  local disk="$1" rh="$2" hdr elba n esz ents i e type uuid first last
  hdr=$(hexat "$disk" 512 92)
  [ "\${hdr:0:16}" = 4546492050415254 ] || return 1   # "EFI PART" (UEFI 2.10 §5.3.2)
  elba=$(le "\${hdr:144:16}"); n=$(le "\${hdr:160:8}"); esz=$(le "\${hdr:168:8}")
  [ "$esz" -ge 128 ] && [ "$n" -ge 1 ] && [ "$n" -le 1024 ] || return 1
  ents=$(dd if="$disk" bs=512 skip="$elba" count=$(((n * esz + 511) / 512)) 2>/dev/null | hexdump -v -e '1/1 "%02x"')
  # the data partition's UUID is the root hash's first 128 bits, the verity one's its last
  local want_root want_verity; want_root=$(guid_disk_hex "\${rh:0:32}"); want_verity=$(guid_disk_hex "\${rh:32:32}")
  local root="" verity="" root_any="" verity_any="" nroot=0 nverity=0
  i=0
  while [ "$i" -lt "$n" ]; do
    e="\${ents:$((i * esz * 2)):112}"
    type="\${e:0:32}"; uuid="\${e:32:32}"
    first=$(le "\${e:64:16}"); last=$(le "\${e:80:16}")
    if [ "$type" = "$ROOT_TYPE" ]; then
      nroot=$((nroot + 1)); root_any="$((i + 1)) $first $((last - first + 1))"
      [ "$uuid" = "$want_root" ] && root="$root_any"
    elif [ "$type" = "$VERITY_TYPE" ]; then
      nverity=$((nverity + 1)); verity_any="$((i + 1)) $first $((last - first + 1))"
      [ "$uuid" = "$want_verity" ] && verity="$verity_any"
    fi
    i=$((i + 1))
  done
  # one pair on the disk: use it even when the UUIDs do not match, so a wrong
  # root hash is refused by dm-verity itself rather than by the lookup
  [ -z "$root" ] && [ "$nroot" = 1 ] && root="$root_any"
  [ -z "$verity" ] && [ "$nverity" = 1 ] && verity="$verity_any"
  [ -n "$root" ] && [ -n "$verity" ] || return 1
  echo "$root $verity"
}

# verity superblock (cryptsetup's format, little-endian) at byte OFFSET of DEV:
# prints HASH_TYPE ALGORITHM DATA_BLOCK_SIZE HASH_BLOCK_SIZE DATA_BLOCKS SALT
verity_params() {
  local sb alg="" i b saltsz salt
  sb=$(hexat "$1" "$2" 512)
  [ "\${sb:0:16}" = 7665726974790000 ] || return 1                # "verity\\0\\0"
  [ "$(le "\${sb:16:8}")" = 1 ] || return 1                        # version
  i=64
  while [ "$i" -lt 128 ]; do
    b="\${sb:$i:2}"; [ "$b" = 00 ] && break
    case "$b" in 3[0-9]|6[1-9a-f]|7[0-9a]|2d) ;; *) return 1 ;; esac   # [0-9a-z-]
    alg="$alg$(printf "\\\\$(printf %03o "0x$b")")"
    i=$((i + 2))
  done
  saltsz=$(le "\${sb:160:4}")
  [ "$saltsz" -le 256 ] || return 1
  salt="\${sb:176:$((saltsz * 2))}"
  echo "$(le "\${sb:24:8}") $alg $(le "\${sb:128:8}") $(le "\${sb:136:8}") $(le "\${sb:144:16}") \${salt:--}"
}

# the dm-verity table line (Documentation/admin-guide/device-mapper/verity.rst);
# the superblock fills the first hash block, so the hash tree starts at block 1
verity_table() {
  local data="$1" hash="$2" rh="$3" htype alg dbs hbs nblocks salt
  set -- $(verity_params "$hash" 0) || return 1
  [ $# = 6 ] || return 1
  htype=$1 alg=$2 dbs=$3 hbs=$4 nblocks=$5 salt=$6
  echo "0 $((nblocks * dbs / 512)) verity $htype $data $hash $dbs $hbs $nblocks $(((512 + hbs - 1) / hbs)) $alg $rh $salt$VERITY_OPTS"
}
`;
}

export function initScript(o: InitOptions): string {
  const mods = o.modules.map((m) => `${shellWord(m.file)}:${m.optional ? 'optional' : 'required'}`).join(' ');
  const opts = o.verityOptions.map(shellWord);
  const writable = [...o.writable].map(shellWord).sort();
  return `#!/bin/sh
# weld initramfs: load modules, open the dm-verity root of a DDI disk, switch to it.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null

say() { echo "weld-initramfs: $*"; }
die() { say "FATAL: $*"; say "refusing to boot"; sync; poweroff -f; sleep 5; }
${probeFunctions()}
VERITY_OPTS="${opts.length ? ` ${opts.length} ${opts.join(' ')}` : ''}"
MODULES="${mods}"
WRITABLE="${writable.join(' ')}"

roothash=""; init=${shellWord(o.defaultInit)}
for w in $(cat /proc/cmdline); do
  case "$w" in
    roothash=*) roothash="\${w#roothash=}" ;;
    init=*) init="\${w#init=}" ;;
  esac
done
case "$roothash" in
  "" ) die "no roothash=<hex> on the kernel command line" ;;
  *[!0-9a-f]*) die "roothash= must be lowercase hex" ;;
esac
[ \${#roothash} -ge 64 ] || die "roothash= is shorter than 256 bits"

for m in $MODULES; do
  f="\${m%%:*}"
  if ! insmod "/lib/modules/$f" 2>/tmp/insmod.err; then
    grep -q 'File exists' /tmp/insmod.err && continue
    case "$m" in *:optional) say "optional module $f did not load: $(cat /tmp/insmod.err)" ;; *) die "cannot load module $f: $(cat /tmp/insmod.err)" ;; esac
  fi
done
say "modules loaded"

layout=""; tries=0
while [ -z "$layout" ]; do
  for sysdisk in /sys/block/*; do
    disk="\${sysdisk##*/}"
    case "$disk" in loop*|ram*|dm-*|zram*) continue ;; esac
    [ -b "/dev/$disk" ] || continue
    if l=$(probe_ddi "/dev/$disk" "$roothash"); then layout="$disk $l"; break; fi
  done
  [ -n "$layout" ] && break
  tries=$((tries + 1)); [ "$tries" -gt 100 ] && die "no disk with a DDI root and root-verity partition"
  sleep 0.1
done
# split in a function: the script's own "$@" is the command to switch to
split_layout() { disk=$1 rootn=$2 rootlba=$3 veritn=$5 veritlba=$6; }
split_layout $layout
case "$disk" in *[0-9]) sep=p ;; *) sep="" ;; esac
rootdev="/dev/$disk$sep$rootn"; hashdev="/dev/$disk$sep$veritn"
for p in "$disk$sep$rootn:$rootlba" "$disk$sep$veritn:$veritlba"; do
  [ "$(cat "/sys/block/$disk/\${p%%:*}/start" 2>/dev/null)" = "\${p#*:}" ] || die "partition \${p%%:*} does not start at sector \${p#*:} as the GPT says"
done
say "root $rootdev, verity $hashdev"

table=$(verity_table "$rootdev" "$hashdev" "$roothash") || die "no dm-verity superblock on $hashdev"
say "verity table: $table"
LD_LIBRARY_PATH=${shellWord(o.libraryPath)} dmsetup create root --readonly --noudevsync --table "$table" || die "dmsetup create failed"
[ -b /dev/mapper/root ] || LD_LIBRARY_PATH=${shellWord(o.libraryPath)} dmsetup mknodes root
say "dmsetup status: $(LD_LIBRARY_PATH=${shellWord(o.libraryPath)} dmsetup status root)"

mkdir -p /newroot
mount -t erofs -o ro /dev/mapper/root /newroot || die "cannot mount the verity root (wrong root hash or corrupted image)"
say "root mounted read-only"

for p in $WRITABLE; do
  if [ ! -d "/newroot$p" ] || [ -L "/newroot$p" ]; then say "not making $p writable: no such directory in the image"; continue; fi
  mkdir -p "/writable$p"
  mount -t tmpfs -o "mode=$(stat -c %a "/newroot$p")" tmpfs "/writable$p" || die "cannot mount a tmpfs for $p"
  cp -a "/newroot$p/." "/writable$p/" || die "cannot copy $p into its tmpfs"
  mount --move "/writable$p" "/newroot$p" || die "cannot mount the tmpfs on $p"
done

for fs in dev proc sys; do
  if [ -d "/newroot/$fs" ]; then mount --move "/$fs" "/newroot/$fs"; else umount -l "/$fs" 2>/dev/null; fi
done
say "switching root"
# a command after "--" on the kernel command line replaces init (the kernel passes it as argv)
[ $# -gt 0 ] || set -- "$init"
exec switch_root /newroot "$@"
`;
}
