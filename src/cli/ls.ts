import { args, io, json, storeOption } from './util.js';
import { storeDir } from '../store/location.js';

export const help = `weld ls [--json] [--store DIR]
  Lists the packages in the store.`;

export async function run(argv: string[]): Promise<number> {
  const { values } = args(argv, { ...storeOption, json: { type: 'boolean' } }, false);
  if (values.help) return io.out(help + '\n'), 0;
  const { Store, nevra } = await import('../store/store.js');
  const store = Store.open(storeDir(values.store), { readonly: true });
  try {
    const rows = store.catalog.listPackages();
    if (values.json) {
      io.out(json(rows.map((r) => ({ name: r.name, epoch: r.epoch, version: r.version, release: r.release, arch: r.arch, format: r.format, files: r.file_count, installedSize: r.installed_size, digest: r.source_digest, summary: r.summary }))));
    } else for (const r of rows) io.out(`${nevra(r).padEnd(60)} ${r.format.padEnd(4)} ${String(r.file_count).padStart(6)} files  ${r.summary}\n`);
    return 0;
  } finally {
    store.close();
  }
}
