/**
 * The kernel's dm-verity table line (Documentation/admin-guide/device-mapper/verity.rst):
 * `<start> <len> verity <version> <data_dev> <hash_dev> <data_block_size> <hash_block_size>
 *  <num_data_blocks> <hash_start_block> <algorithm> <digest> <salt> [<#opt_params> <opt_params>]`
 */
import { usageError } from '../errors.js';
import type { VerityParams } from './format.js';

/** On-corruption modes are exclusive; `ignore_zero_blocks` is never a default (a flipped byte in a zero block would go unseen). */
export type VerityOption =
  | 'ignore_corruption'
  | 'restart_on_corruption'
  | 'panic_on_corruption'
  | 'restart_on_error'
  | 'panic_on_error'
  | 'ignore_zero_blocks'
  | 'check_at_most_once'
  | { rootHashSigKeyDesc: string };

export interface TableInput {
  params: VerityParams;
  rootHash: Uint8Array | string;
  dataDevice: string;
  hashDevice: string;
  /** hash-block index where the hash area starts on hashDevice; 1 behind a superblock at offset 0 */
  hashStartBlock?: number;
  options?: VerityOption[];
}

const CORRUPTION_MODES = new Set(['ignore_corruption', 'restart_on_corruption', 'panic_on_corruption']);

export function verityTable(t: TableInput): string {
  const p = t.params;
  for (const dev of [t.dataDevice, t.hashDevice]) if (!dev || /\s/.test(dev)) throw usageError(`Cannot use device ${JSON.stringify(dev)} in a verity table: empty or has whitespace`);
  const root = typeof t.rootHash === 'string' ? t.rootHash.toLowerCase() : Buffer.from(t.rootHash).toString('hex');
  if (!/^[0-9a-f]+$/.test(root)) throw usageError(`Cannot use root hash ${JSON.stringify(root)}: not hex`);
  const words: string[] = [];
  const modes = (t.options ?? []).filter((o) => typeof o === 'string' && CORRUPTION_MODES.has(o));
  if (modes.length > 1) throw usageError(`Cannot combine verity options ${modes.join(', ')}: pick one`);
  for (const o of t.options ?? []) {
    if (typeof o === 'string') words.push(o);
    else {
      if (!o.rootHashSigKeyDesc || /\s/.test(o.rootHashSigKeyDesc)) throw usageError('Cannot use an empty or spaced root_hash_sig_key_desc');
      words.push('root_hash_sig_key_desc', o.rootHashSigKeyDesc);
    }
  }
  const sectors = (p.dataBlocks * p.dataBlockSize) / 512;
  const salt = p.salt.length ? Buffer.from(p.salt).toString('hex') : '-';
  const line = [0, sectors, 'verity', p.hashType, t.dataDevice, t.hashDevice, p.dataBlockSize, p.hashBlockSize, p.dataBlocks, t.hashStartBlock ?? 1, p.algorithm, root, salt].join(' ');
  return words.length ? `${line} ${words.length} ${words.join(' ')}` : line;
}
