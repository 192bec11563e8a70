import fs from 'node:fs';
import { args, io, json, storeOption, humanBytes } from './util.js';
import { storeDir } from '../store/location.js';
import { usageError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic.js';

export const help = `weld initramfs --variant NAME|FILE [-o FILE] [--kernel FILE] [--report FILE] [--store DIR]
  Composes a gzip newc initramfs from the store: static busybox, the kernel
  modules the boot needs (virtio, erofs, dm-verity and their dependencies) from
  the variant's kernel package, dmsetup with its libraries, and an /init that
  opens the DDI disk's dm-verity root from roothash=<hex> on the kernel command
  line and switches to it. --kernel writes the matching vmlinuz.
  Boot: -append "console=ttyS0 roothash=<hex> [-- COMMAND ARGS...]"`;

export async function run(argv: string[]): Promise<number> {
  const { values } = args(argv, { ...storeOption, variant: { type: 'string' }, output: { type: 'string', short: 'o' }, kernel: { type: 'string' }, report: { type: 'string' }, json: { type: 'boolean' } }, false);
  if (values.help) return io.out(help + '\n'), 0;
  if (!values.variant) throw usageError('initramfs needs --variant NAME or --variant FILE');
  if (!values.output && process.stdout.isTTY) throw usageError('Refusing to write an initramfs to a terminal: use -o FILE or redirect stdout');
  const { Store } = await import('../store/store.js');
  const { loadVariant } = await import('../linker/variant.js');
  const { buildInitramfs } = await import('../initramfs/compose.js');
  const variant = await loadVariant(values.variant);
  const store = Store.open(storeDir(values.store), { readonly: true });
  try {
    const r = await buildInitramfs(store, variant);
    writeFile(values.output, r.image);
    if (values.kernel) writeFile(values.kernel, store.readObject(r.kernel.vmlinuzObject));
    const report = {
      variant: variant.name,
      kernel: r.kernel,
      size: r.image.length,
      cpioSize: r.cpioSize,
      modules: r.modules.load,
      builtinModules: r.modules.builtin,
      unresolvedSoftdeps: r.modules.unresolvedSoftdeps,
      files: r.files,
    };
    if (values.report) writeFile(values.report, new TextEncoder().encode(json(report)));
    if (values.json) io.err(json(report));
    else io.err(`initramfs: ${variant.name}, kernel ${r.kernel.release} from ${r.kernel.package}, ${r.modules.load.length} modules, ${humanBytes(r.image.length)}\n`);
    return 0;
  } finally {
    store.close();
  }
}

function writeFile(file: string | undefined, data: Uint8Array): void {
  if (!file || file === '-') return void fs.writeSync(1, data);
  writeFileAtomic(file, data);
}
