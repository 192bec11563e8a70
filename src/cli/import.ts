import { args, io, json, storeOption, progress, humanBytes } from './util.js';
import { storeDir } from '../store/location.js';
import { usageError } from '../errors.js';

export const help = `weld import FILE|DIR... [--store DIR] [--json] [--jobs N]
  Reads RPM and .deb packages into the store. Scriptlets are classified, never run.
  Exit: 0 all imported or skipped, 1 any package failed, 2 usage error.`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = args(argv, { ...storeOption, json: { type: 'boolean' }, jobs: { type: 'string', short: 'j' } });
  if (values.help) return io.out(help + '\n'), 0;
  if (!positionals.length) throw usageError('import needs at least one package file or directory');
  const { expandInputs } = await import('../importer/index.js');
  const { importAll } = await import('../importer/pool.js');
  const files = expandInputs(positionals);
  const jobs = values.jobs ? Number(values.jobs) : undefined;
  if (jobs !== undefined && !(Number.isInteger(jobs) && jobs > 0)) throw usageError(`--jobs must be a positive integer, not ${values.jobs}`);
  const bar = progress('importing', files.length);
  const s = await importAll(storeDir(values.store), files, (o, done) => {
    bar.tick(done, o.package ?? '');
    if (o.status === 'failed') {
      bar.end();
      io.err(`weld: ${o.reason}\n`);
    }
  }, jobs);
  bar.end();
  if (values.json) {
    const { outcomes, ...summary } = s;
    io.out(
      json({
        ...summary,
        dedupRatio: Number.isFinite(s.dedupRatio) ? s.dedupRatio : null,
        packages: outcomes.map((o) => ({ file: o.file, status: o.status, package: o.package ?? null, format: o.format ?? null, reason: o.reason ?? null, code: o.code ?? null })),
      }),
    );
  } else {
    for (const o of s.outcomes) if (o.status === 'skipped') io.err(`weld: skipped ${o.reason}\n`);
    const mbps = s.payloadBytes / 1e6 / Math.max(s.seconds, 1e-9);
    io.err(
      `imported ${s.added}, skipped ${s.skipped}, failed ${s.failed} in ${s.seconds.toFixed(2)} s; ` +
        `${s.objectsNew} new objects (${humanBytes(s.bytesNew)}), ${s.objectsReused} reused; ${mbps.toFixed(0)} MB/s of payload\n`,
    );
  }
  return s.failed > 0 ? 1 : 0;
}
