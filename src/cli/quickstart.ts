import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { args, io, humanBytes, progress } from './util.js';
import { storeDir } from '../store/location.js';
import { WeldError, usageError } from '../errors.js';
import { runTool } from '../util/exec.js';

export const help = `weld quickstart [--cache DIR] [--store DIR] [-o root.img] [--variant minimal]
  The main job, end to end: fetch Debian bookworm's minimal package set with
  apt-get download (cached), import it, link the variant to a sealed DDI image,
  verify it, and print the root hash, the image size and each step's time.
  A second run reuses the cache and the store.`;

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function cacheDir(flag?: string): string {
  if (flag) return path.resolve(flag);
  const xdg = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(xdg, 'weld', 'debs');
}

export async function run(argv: string[]): Promise<number> {
  const { values } = args(argv, { store: { type: 'string' }, cache: { type: 'string' }, output: { type: 'string', short: 'o' }, variant: { type: 'string' } }, false);
  if (values.help) return io.out(help + '\n'), 0;
  const store = storeDir(values.store);
  const cache = cacheDir(values.cache);
  const out = path.resolve(values.output ?? 'root.img');
  const variant = values.variant ?? 'minimal';
  const steps: { step: string; seconds: number; note: string }[] = [];
  const timed = async <T>(step: string, fn: () => Promise<T> | T, note: (r: T) => string): Promise<T> => {
    io.err(`==> ${step}\n`);
    const t = performance.now();
    const r = await fn();
    const s = { step, seconds: (performance.now() - t) / 1000, note: note(r) };
    steps.push(s);
    io.err(`    ${s.note} (${s.seconds.toFixed(2)} s)\n`);
    return r;
  };

  // 1. fetch: the minbase set plus what the variant adds (busybox-static)
  const names = fs
    .readFileSync(path.join(ROOT, 'fixtures/minbase-bookworm.txt'), 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'));
  names.push('busybox-static');
  await timed(
    `fetch ${names.length} Debian bookworm packages into ${cache}`,
    () => {
      runTool(['bash', path.join(ROOT, 'scripts/fetch-debs.sh'), cache, ...names], { stdout: 'inherit', what: 'Cannot fetch packages with apt-get download' });
      return fs.readdirSync(cache).filter((f) => f.endsWith('.deb'));
    },
    (files) => `${files.length} packages, ${humanBytes(files.reduce((n, f) => n + fs.statSync(path.join(cache, f)).size, 0))} cached`,
  );

  // 2. import
  const { importAll } = await import('../importer/pool.js');
  const { expandInputs } = await import('../importer/index.js');
  const files = expandInputs([cache]).filter((f) => names.some((n) => path.basename(f).startsWith(n + '_')));
  const bar = progress('importing', files.length);
  const imp = await timed(
    `import into ${store}`,
    () => importAll(store, files, (o, done) => bar.tick(done, o.package ?? '')),
    (s) => {
      bar.end();
      return `${s.added} added, ${s.skipped} already there, ${s.failed} failed; ${s.objectsNew} new objects, ${s.objectsReused} reused; ${(s.payloadBytes / 1e6 / Math.max(s.seconds, 1e-9)).toFixed(0)} MB/s`;
    },
  );
  for (const o of imp.outcomes) if (o.status === 'failed') io.err(`weld: ${o.reason}\n`);
  if (imp.failed) throw new WeldError('format', 'E_IMPORT', `${imp.failed} packages failed to import`);

  // 3. link, 4. verify: in process, through the same functions as weld link and weld verify
  const { Store } = await import('../store/store.js');
  const { linkImage } = await import('../linker/output/index.js');
  const { verifyImage } = await import('../verity/image.js');
  const reportFile = out.replace(/(\.img)?$/, '.report.json');
  const linked = await timed(
    `link --variant ${variant} -o ${out}`,
    async () => {
      const s = Store.open(store);
      try {
        const r = await linkImage(s, { variant, output: out, report: reportFile, warn: (line) => io.err(`weld: warning: ${line}\n`) });
        if (!r.image?.rootHash) throw usageError(`Cannot quickstart variant ${variant}: it does not seal with verity, so there is no root hash to verify`);
        return { rootHash: r.image.rootHash, packages: r.link.packages.length };
      } finally {
        s.close();
      }
    },
    (l) => `${l.packages} packages, ${humanBytes(fs.statSync(out).size)} image, report in ${reportFile}`,
  );
  await timed(
    `verify ${out}`,
    async () => {
      const v = await verifyImage(out, linked.rootHash);
      if (!v.ok) throw new WeldError('format', 'E_VERIFY', `Cannot verify ${out}: ${v.message}`, {}, v.exitCode);
      return `${out}: verified ${v.dataBlocks} data blocks against root hash ${linked.rootHash}`;
    },
    (s) => s,
  );

  io.out(`root hash:  ${linked.rootHash}\n`);
  io.out(`image:      ${out} (${humanBytes(fs.statSync(out).size)}, ${fs.statSync(out).size} bytes)\n`);
  for (const s of steps) io.out(`${s.step.split(' ')[0]!.padEnd(10)}  ${s.seconds.toFixed(2).padStart(7)} s\n`);
  return 0;
}
