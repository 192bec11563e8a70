import { args, io, storeOption, humanBytes } from './util.js';
import { storeDir } from '../store/location.js';
import { usageError } from '../errors.js';

export const help = `weld link --variant NAME|FILE [--format dir|tar|erofs|ddi|manifest] [-o OUT]
          [--lock FILE] [--report FILE] [--sbom FILE] [--salt HEX] [--sync] [--timing] [--store DIR]
  Resolves a variant to a closed package set, merges the trees, applies the
  declarative actions and writes an image. The default format is ddi when the
  variant seals with verity, erofs otherwise. Single-file formats go to -o FILE
  or stdout; dir needs -o DIR. --lock reads the lock when it exists, else writes it.
  -o files appear whole or not at all (written beside, renamed into place);
  --sync also flushes them to disk first, as dd conv=fsync does.`;

export async function run(argv: string[]): Promise<number> {
  const { values } = args(
    argv,
    {
      ...storeOption,
      variant: { type: 'string' },
      format: { type: 'string' },
      output: { type: 'string', short: 'o' },
      lock: { type: 'string' },
      report: { type: 'string' },
      sbom: { type: 'string' },
      salt: { type: 'string' },
      timing: { type: 'boolean' },
      sync: { type: 'boolean' },
    },
    false,
  );
  if (values.help) return io.out(help + '\n'), 0;
  if (!values.variant) throw usageError('link needs --variant NAME or --variant FILE');
  const startedAt = performance.now();
  // node's own start-up and loading the CLI, before any of link's phases: not part of `total`
  const timing: Record<string, number> = { startup: Number(startedAt.toFixed(3)) };
  const { parseFormat, linkImage } = await import('../linker/output/index.js');
  const format = parseFormat(values.format);
  const { Store } = await import('../store/store.js');
  const store = Store.open(storeDir(values.store));
  try {
    const { link: r, format: written, image } = await linkImage(store, {
      variant: values.variant,
      lock: values.lock,
      format,
      output: values.output,
      report: values.report,
      sbom: values.sbom,
      salt: values.salt,
      sync: values.sync,
      timing,
      startedAt,
      warn: (line) => io.err(`weld: warning: ${line}\n`),
    });
    if (image?.rootHash) io.err(`root hash: ${image.rootHash}\nverity table: ${image.table}\n`);
    if (r.stats.staleClassifier.length) io.err(`weld: warning: ${r.stats.staleClassifier.length} packages were classified by an older weld and miss newer actions; run weld import on their files again (${r.stats.staleClassifier.slice(0, 3).join(', ')}${r.stats.staleClassifier.length > 3 ? ', …' : ''})\n`);
    if (r.actions.opaque.length) io.err(`weld: ${r.actions.opaque.length} scriptlet steps were not understood and were not applied (see --report)\n`);
    if (values.timing) io.err(`timing (ms): ${Object.entries(timing).map(([k, v]) => `${k} ${v}`).join(', ')}\n`);
    else if (image) io.err(`${r.variant.name}: ${r.packages.length} packages, ${r.nodes.length} files, ${humanBytes(image.size)} ${written} in ${(timing.total! / 1000).toFixed(2)} s\n`);
    return 0;
  } finally {
    store.close();
  }
}
