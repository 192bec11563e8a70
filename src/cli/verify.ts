import fs from 'node:fs';
import { args, io, json } from './util.js';
import { WeldError, usageError } from '../errors.js';

export const help = `weld verify IMAGE (--root-hash HEX | --report FILE) [--json]
  Checks every block of a sealed DDI image against its dm-verity tree, as
  veritysetup verify does. Exit: 0 good, 1 wrong root hash, 2 corrupted data.
  Names the first bad block and the file it belongs to.`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = args(argv, { 'root-hash': { type: 'string' }, report: { type: 'string' }, json: { type: 'boolean' } });
  if (values.help) return io.out(help + '\n'), 0;
  if (positionals.length !== 1) throw usageError('verify takes exactly one image');
  let root = values['root-hash'];
  if (!root && values.report) {
    try {
      root = (JSON.parse(fs.readFileSync(values.report, 'utf8')) as { rootHash?: string }).rootHash ?? undefined;
    } catch (e) {
      throw usageError(`Cannot read report ${values.report}: ${(e as Error).message}`);
    }
  }
  if (!root) throw usageError('verify needs --root-hash HEX or --report FILE');
  if (!/^[0-9a-fA-F]{64}$/.test(root)) throw usageError(`--root-hash must be 64 hex digits (sha256), not ${root}`);
  const { verifyImage } = await import('../verity/image.js');
  const r = await verifyImage(positionals[0]!, root.toLowerCase());
  if (values.json) io.out(json(r));
  else if (r.ok) io.err(`${positionals[0]}: verified ${r.dataBlocks} data blocks against root hash ${root.toLowerCase()}\n`);
  else io.err(`weld: ${positionals[0]}: ${r.message}\n`);
  if (!r.ok && r.exitCode === 0) throw new WeldError('bug', 'E_BUG', 'verify failed with exit 0');
  return r.exitCode;
}
