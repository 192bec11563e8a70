import { args, io, json, storeOption, progress, humanBytes } from './util.js';
import { storeDir } from '../store/location.js';

export const help = `weld fsck [--json] [--store DIR]
  Re-hashes every object and checks every catalog reference. Exit 0 clean, 1 errors.`;

export async function run(argv: string[]): Promise<number> {
  const { values } = args(argv, { ...storeOption, json: { type: 'boolean' } }, false);
  if (values.help) return io.out(help + '\n'), 0;
  const { Store } = await import('../store/store.js');
  const { fsck } = await import('../store/fsck.js');
  const store = Store.open(storeDir(values.store));
  try {
    const bar = progress('checking', 1);
    const r = fsck(store, (d, t) => {
      bar.tick(d);
      void t;
    });
    bar.end();
    if (values.json) io.out(json(r));
    else {
      for (const e of r.errors) io.out(`error: ${e.message}\n`);
      io.out(
        `${r.ok ? 'clean' : `${r.errors.length} errors`}: ${r.packages} packages, ${r.objects} objects; ` +
          `${r.reclaimable.objects} unreferenced objects reclaimable (${humanBytes(r.reclaimable.bytes)})` +
          (r.tempFilesRemoved ? `; removed ${r.tempFilesRemoved} stale temp files` : '') + '\n',
      );
    }
    return r.ok ? 0 : 1;
  } finally {
    store.close();
  }
}
