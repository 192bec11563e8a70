import { args, io, json, storeOption, humanBytes } from './util.js';
import { storeDir } from '../store/location.js';
import { WeldError, usageError, notFound } from '../errors.js';
import type { DepEntry, PackageMeta } from '../model.js';

export const help = `weld show NAME[-EVR] [--files] [--json] [--format rpm|deb] [--store DIR]
  Shows one package from the store. Two matches (e.g. an .rpm and a .deb) are an error unless --format picks one.`;

function depText(d: DepEntry): string {
  if ('anyOf' in d) return d.anyOf.map(depText).join(' | ');
  return d.op ? `${d.name} ${d.op} ${d.evr}` : d.name;
}

export function describe(m: PackageMeta, withFiles: boolean): string {
  const lines = [
    `Name        : ${m.name}`,
    `Epoch       : ${m.epoch ?? '(none)'}`,
    `Version     : ${m.version}`,
    `Release     : ${m.release}`,
    `Architecture: ${m.arch}`,
    `Format      : ${m.format}${m.isSource ? ' (source)' : ''}`,
    `Summary     : ${m.summary}`,
    `License     : ${m.license}`,
    `Size        : ${humanBytes(m.installedSize)}`,
    `Payload     : ${m.payload.format}, ${m.payload.compressor}`,
    `Signatures  : ${m.signatures.map((s) => `${s.tag}/${s.kind}/${s.hashAlgo}${s.keyId ? ' ' + s.keyId : ''}`).join(', ') || '(none)'}`,
  ];
  for (const k of ['requires', 'preDepends', 'provides', 'conflicts', 'obsoletes', 'breaks', 'replaces', 'recommends', 'suggests'] as const) {
    if (m[k].length) lines.push(`${k.padEnd(12)}: ${m[k].map(depText).join(', ')}`);
  }
  for (const s of m.scriptlets) lines.push(`scriptlet   : ${s.phase} (${s.interpreter || 'none'}): ${s.actions.map((a) => a.kind).join(', ') || 'no actions'}`);
  lines.push(`Files       : ${m.files.length}`);
  if (withFiles) for (const f of m.files) lines.push(`  ${(f.mode & 0o7777).toString(8).padStart(4, '0')} ${f.user}:${f.group} ${String(f.size).padStart(9)} ${f.path}${f.target ? ' -> ' + f.target : ''}`);
  return lines.join('\n') + '\n';
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = args(argv, { ...storeOption, json: { type: 'boolean' }, files: { type: 'boolean' }, format: { type: 'string' } });
  if (values.help) return io.out(help + '\n'), 0;
  if (positionals.length !== 1) throw usageError('show takes exactly one package name');
  if (values.format && values.format !== 'rpm' && values.format !== 'deb') throw usageError(`--format must be rpm or deb, not ${values.format}`);
  const { Store, nevra } = await import('../store/store.js');
  const store = Store.open(storeDir(values.store), { readonly: true });
  try {
    const rows = store.findPackages(positionals[0]!, values.format);
    if (!rows.length) throw notFound(`No package ${positionals[0]} in the store`, { name: positionals[0] });
    if (rows.length > 1) {
      throw new WeldError('conflict', 'E_AMBIGUOUS', `${positionals[0]} matches ${rows.length} packages: ${rows.map((r) => `${nevra(r)} (${r.format})`).join(', ')}; pick one with --format or NAME-EVR`, {
        matches: rows.map((r) => ({ nevra: nevra(r), format: r.format })),
      });
    }
    const row = rows[0]!;
    const { fileActions, ...header } = store.catalog.header(row.id);
    const meta: PackageMeta = { ...header, files: store.catalog.fileList(row.id) };
    if (values.json) {
      const { toPackageJson } = await import('../importer/json.js');
      const j = toPackageJson(meta) as unknown as Record<string, unknown>;
      if (!values.files) delete j.files;
      io.out(json(j));
    } else io.out(describe(meta, Boolean(values.files)));
    return 0;
  } finally {
    store.close();
  }
}
