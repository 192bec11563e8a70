import { args, io, json, storeOption } from './util.js';
import { storeDir } from '../store/location.js';

export const help = `weld scriptlets [--json] [--store DIR]
  Counts the declarative actions per kind across the store and lists the opaque scriptlets.`;

export async function run(argv: string[]): Promise<number> {
  const { values } = args(argv, { ...storeOption, json: { type: 'boolean' } }, false);
  if (values.help) return io.out(help + '\n'), 0;
  const { Store } = await import('../store/store.js');
  const { scriptletReport } = await import('../store/report.js');
  const store = Store.open(storeDir(values.store), { readonly: true });
  try {
    const r = scriptletReport(store);
    if (values.json) io.out(json(r));
    else {
      io.out(`${r.scriptlets} scriptlets in ${r.packages} packages\n`);
      for (const [k, n] of Object.entries(r.counts)) io.out(`  ${k.padEnd(12)} ${n}\n`);
      if (r.opaque.length) io.out(`opaque:\n`);
      for (const o of r.opaque) io.out(`  ${o.package} ${o.phase}: ${o.reason}\n`);
    }
    return 0;
  } finally {
    store.close();
  }
}
