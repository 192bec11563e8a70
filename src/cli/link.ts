import fs from 'node:fs';
import path from 'node:path';
import { args, io, json, storeOption, humanBytes } from './util.js';
import { storeDir } from '../store/location.js';
import { usageError } from '../errors.js';
import { ioError, processAlive } from '../store/objects.js';

export const help = `weld link --variant NAME|FILE [--format dir|tar|erofs|ddi|manifest] [-o OUT]
          [--lock FILE] [--report FILE] [--sbom FILE] [--salt HEX] [--sync] [--timing] [--store DIR]
  Resolves a variant to a closed package set, merges the trees, applies the
  declarative actions and writes an image. The default format is ddi when the
  variant seals with verity, erofs otherwise. Single-file formats go to -o FILE
  or stdout; dir needs -o DIR. --lock reads the lock when it exists, else writes it.
  -o files appear whole or not at all (written beside, renamed into place);
  --sync also flushes them to disk first, as dd conv=fsync does.`;

const FORMATS = ['dir', 'tar', 'erofs', 'ddi', 'manifest'] as const;
type Format = (typeof FORMATS)[number];

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
  if (values.format && !FORMATS.includes(values.format as Format)) throw usageError(`--format must be one of ${FORMATS.join(', ')}, not ${values.format}`);
  const t0 = performance.now();
  // node's own start-up and loading the CLI, before any of link's phases: not part of `total`
  const timing: Record<string, number> = { startup: Number(t0.toFixed(3)) };
  const { Store } = await import('../store/store.js');
  const { link, writeLockFile } = await import('../linker/link.js');
  const { lockText } = await import('../linker/lock.js');
  const store = Store.open(storeDir(values.store));
  const writeOut = (file: string | undefined, body: (fd: number, target: OutputTarget) => void | Promise<void>) => writeOutput(file, body, values.sync ?? false);
  try {
    const r = await link(store, { variant: values.variant, lock: values.lock ?? null, timing });
    const format: Format = (values.format as Format) ?? (r.variant.layout.verity ? 'ddi' : 'erofs');
    if (format === 'dir' && !values.output) throw usageError('--format dir needs -o DIR');
    const binary = format === 'erofs' || format === 'ddi' || format === 'tar';
    if (binary && !values.output && process.stdout.isTTY) throw usageError(`Refusing to write a ${format} image to a terminal: use -o FILE or redirect stdout`);
    const saltHex = (values.salt ?? r.lock.salt).toLowerCase();
    if (values.salt) r.lock.salt = saltHex;
    let t = performance.now();
    let imageReport: import('../linker/image.js').ImageReport | null = null;

    if (format === 'manifest') {
      const { toManifest } = await import('../linker/output/manifest.js');
      const text = JSON.stringify(toManifest(r, (d) => store.putBytes(d))) + '\n';
      await writeOut(values.output, (fd) => void fs.writeSync(fd, text));
    } else if (format === 'dir') {
      const { writeDir } = await import('../linker/output/dir.js');
      const { toTreeNodes } = await import('../linker/image.js');
      const res = writeDir(values.output!, toTreeNodes(r), (id) => store.objects.pathOf(id));
      for (const s of res.skipped) io.err(`weld: warning: could not create ${s} in the directory\n`);
    } else if (format === 'tar') {
      const { tarExtents } = await import('../linker/output/tar.js');
      const { toTreeNodes } = await import('../linker/image.js');
      const { emitExtents, objectRanges } = await import('../linker/output/emit.js');
      const { objectCopier } = await import('../linker/output/copy.js');
      const tar = tarExtents(toTreeNodes(r));
      for (const s of tar.skipped) io.err(`weld: warning: ${s} is a socket; tar cannot hold it\n`);
      await writeOut(values.output, async (fd, target) => {
        const copier = target.seekable ? objectCopier(store) : null;
        const copying = copier?.copy(fd, objectRanges(tar.extents));
        await alongside(
          () => emitExtents(fd, tar.extents, tar.size, (id) => store.objects.pathOf(id), { ...target, skipObjects: !!copier }),
          () => copying,
        );
      });
    } else {
      const { buildImage } = await import('../linker/image.js');
      const { emitExtents } = await import('../linker/output/emit.js');
      const { objectCopier } = await import('../linker/output/copy.js');
      let img: import('../linker/image.js').Image | null = null;
      await writeOut(values.output, async (fd, target) => {
        // file data is copied by a child process while the image is sealed here
        const copier = target.seekable ? objectCopier(store) : null;
        let copying: Promise<void> | undefined;
        await alongside(
          async () => {
            const built = await buildImage(store, r, format, { saltHex, onData: copier ? (ranges) => void (copying = copier.copy(fd, ranges)) : undefined });
            timing.layout = Number((performance.now() - t).toFixed(3));
            t = performance.now();
            emitExtents(fd, built.extents, built.size, (id) => store.objects.pathOf(id), { ...target, skipObjects: !!copier });
            img = built;
          },
          () => copying,
        );
      });
      imageReport = img!.report;
      if (imageReport.rootHash) io.err(`root hash: ${imageReport.rootHash}\nverity table: ${imageReport.table}\n`);
    }
    timing.write = Number((performance.now() - t).toFixed(3));
    timing.total = Number((performance.now() - t0).toFixed(3));
    if (values.lock && !fs.existsSync(values.lock)) writeLockFile(values.lock, lockText(r.lock));
    if (r.stats.staleClassifier.length) io.err(`weld: warning: ${r.stats.staleClassifier.length} packages were classified by an older weld and miss newer actions; run weld import on their files again (${r.stats.staleClassifier.slice(0, 3).join(', ')}${r.stats.staleClassifier.length > 3 ? ', …' : ''})\n`);
    if (r.actions.opaque.length) io.err(`weld: ${r.actions.opaque.length} scriptlet steps were not understood and were not applied (see --report)\n`);
    if (values.report) {
      const report = {
        variant: r.variant.name,
        format,
        rootHash: imageReport?.rootHash ?? null,
        salt: imageReport?.salt ?? null,
        dataBlocks: imageReport?.dataBlocks ?? null,
        hashStartBlock: imageReport?.hashStartBlock ?? null,
        table: imageReport?.table ?? null,
        partitions: imageReport?.partitions ?? [],
        size: imageReport?.size ?? null,
        sourceDateEpoch: r.sourceDateEpoch,
        packages: r.lock.packages,
        files: r.nodes.length,
        excluded: r.stats.excluded,
        conflictsResolved: r.stats.resolved,
        actions: r.actions,
        seal: imageReport?.seal ?? null,
        timing,
      };
      await writeOut(values.report, (fd) => void fs.writeSync(fd, json(report)));
    }
    if (values.sbom) {
      const { spdx } = await import('../linker/sbom.js');
      await writeOut(values.sbom, (fd) => void fs.writeSync(fd, json(spdx(r, imageReport?.rootHash ?? null))));
    }
    if (values.timing) io.err(`timing (ms): ${Object.entries(timing).map(([k, v]) => `${k} ${v}`).join(', ')}\n`);
    else if (imageReport) io.err(`${r.variant.name}: ${r.packages.length} packages, ${r.nodes.length} files, ${humanBytes(imageReport.size)} ${format} in ${(timing.total / 1000).toFixed(2)} s\n`);
    return 0;
  } finally {
    store.close();
  }
}

type OutputTarget = { seekable: boolean; fresh: boolean };

/**
 * Writes to a temp file renamed into place on success, or to stdout; a failure
 * leaves no output file. Like mkfs and cp, it leaves flushing to the kernel
 * unless asked (`sync`).
 */
async function writeOutput(file: string | undefined, body: (fd: number, target: OutputTarget) => void | Promise<void>, sync: boolean): Promise<void> {
  if (!file || file === '-') {
    const st = fs.fstatSync(1);
    await body(1, { seekable: st.isFile(), fresh: st.isFile() && st.size === 0 });
    return;
  }
  const dir = path.dirname(path.resolve(file));
  const prefix = `.${path.basename(file)}.weld-`;
  const tmp = path.join(dir, prefix + process.pid);
  removeStaleTemps(dir, prefix);
  let fd: number;
  try {
    fd = fs.openSync(tmp, 'w', 0o644);
  } catch (e) {
    throw ioError(`Cannot write ${file}`, e);
  }
  try {
    await body(fd, { seekable: true, fresh: true });
    if (sync) fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(tmp, file);
  } catch (e) {
    try {
      fs.closeSync(fd);
    } catch {}
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Runs `main` while a copier works, then waits for the copier even when
 * `main` failed: no child may still write into a file that is about to be removed.
 */
async function alongside(main: () => Promise<void> | void, side: () => Promise<void> | undefined): Promise<void> {
  let failure: { e: unknown } | null = null;
  try {
    await main();
  } catch (e) {
    failure = { e };
  }
  try {
    await side();
  } catch (e) {
    failure ??= { e };
  }
  if (failure) throw failure.e;
}

/** A link killed mid-write (kill -9) leaves its temp file; the next link to the same path removes it. */
function removeStaleTemps(dir: string, prefix: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => n.startsWith(prefix));
  } catch {
    return;
  }
  for (const n of names) {
    const pid = Number(n.slice(prefix.length));
    if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && !processAlive(pid)) fs.rmSync(path.join(dir, n), { force: true });
  }
}
