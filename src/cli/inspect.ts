import { args, io, json } from './util.js';
import { usageError } from '../errors.js';

export const help = `weld inspect PKGFILE [--json]
  Parses a package (RPM, source RPM or .deb) without storing it, like rpm -qp.`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = args(argv, { json: { type: 'boolean' } });
  if (values.help) return io.out(help + '\n'), 0;
  if (positionals.length !== 1) throw usageError('inspect takes exactly one package file');
  const { readPackage } = await import('../importer/index.js');
  const { hashOnlySink } = await import('../store/sink.js');
  const { toPackageJson } = await import('../importer/json.js');
  const meta = await readPackage(positionals[0]!, hashOnlySink());
  if (values.json) io.out(json(toPackageJson(meta)));
  else {
    const { describe } = await import('./show.js');
    io.out(describe(meta, true));
  }
  return 0;
}
