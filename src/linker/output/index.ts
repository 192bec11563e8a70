/**
 * Writing a link's outputs: the image in one of the formats, the lock, the
 * report and the SBOM, each placed atomically. `weld link` and `weld
 * quickstart` both come through `linkImage`; the CLI only parses and prints.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Store } from '../../store/store.js';
import { removeStaleTemps, withAtomicFile, writeFileAtomic } from '../../util/atomic.js';
import { usageError } from '../../errors.js';
import { jsonText } from '../../util/json.js';
import { link, type LinkResult } from '../link.js';
import { lockText } from '../lock.js';
import { spdx } from '../sbom.js';
import { buildImage, toTreeNodes, type ImageReport } from '../image.js';
import { objectCopier } from './copy.js';
import { writeDir } from './dir.js';
import { emitExtents, objectRanges } from './emit.js';
import { toManifest } from './manifest.js';
import { tarExtents } from './tar.js';

export const FORMATS = ['dir', 'tar', 'erofs', 'ddi', 'manifest'] as const;
export type Format = (typeof FORMATS)[number];

/** `--format`'s value, checked. */
export function parseFormat(s: string | undefined): Format | undefined {
  if (s !== undefined && !FORMATS.includes(s as Format)) throw usageError(`--format must be one of ${FORMATS.join(', ')}, not ${s}`);
  return s as Format | undefined;
}

export interface LinkImageOptions {
  variant: string;
  /** read when it exists, else written after the link */
  lock?: string;
  /** default: ddi when the variant seals with verity, erofs otherwise */
  format?: Format;
  /** a file (a directory for `dir`); absent or '-' is stdout */
  output?: string;
  report?: string;
  sbom?: string;
  /** hex; overrides the lock's salt */
  salt?: string;
  /** fsync outputs before renaming them into place, as dd conv=fsync does */
  sync?: boolean;
  /** phase times in ms, filled in; `startup` may be set by the caller */
  timing?: Record<string, number>;
  /** performance.now() when the command started, for `timing.total`; default: now */
  startedAt?: number;
  /** non-fatal notes (entries a format cannot hold), one line each without newline */
  warn?: (line: string) => void;
}

export interface LinkImageResult {
  link: LinkResult;
  format: Format;
  /** for erofs and ddi; null for dir, tar and manifest */
  image: ImageReport | null;
  timing: Record<string, number>;
}

/** The `--report` document. */
export interface LinkReport {
  variant: string;
  format: Format;
  rootHash: string | null;
  salt: string | null;
  dataBlocks: number | null;
  hashStartBlock: number | null;
  table: string | null;
  partitions: ImageReport['partitions'];
  size: number | null;
  sourceDateEpoch: number;
  packages: LinkResult['lock']['packages'];
  files: number;
  excluded: number;
  conflictsResolved: LinkResult['stats']['resolved'];
  actions: LinkResult['actions'];
  seal: ImageReport['seal'];
  timing: Record<string, number>;
}

const ms = (since: number) => Number((performance.now() - since).toFixed(3));

/** Links a variant and writes its image, lock, report and SBOM. */
export async function linkImage(store: Store, o: LinkImageOptions): Promise<LinkImageResult> {
  const t0 = o.startedAt ?? performance.now();
  const timing = o.timing ?? {};
  const warn = o.warn ?? (() => {});
  const r = await link(store, { variant: o.variant, lock: o.lock ?? null, timing });
  const format: Format = o.format ?? (r.variant.layout.verity ? 'ddi' : 'erofs');
  if (format === 'dir' && !o.output) throw usageError('--format dir needs -o DIR');
  const binary = format === 'erofs' || format === 'ddi' || format === 'tar';
  if (binary && !o.output && process.stdout.isTTY) throw usageError(`Refusing to write a ${format} image to a terminal: use -o FILE or redirect stdout`);
  const saltHex = (o.salt ?? r.lock.salt).toLowerCase();
  if (o.salt) r.lock.salt = saltHex;
  const sync = o.sync ?? false;
  const t = performance.now();
  const image = await writeImage(store, r, format, { output: o.output, saltHex, sync, timing, warn });
  // `layout` (erofs, ddi) is the sealing before the first byte; `write` the rest
  timing.write = Number((ms(t) - (timing.layout ?? 0)).toFixed(3));
  timing.total = ms(t0);
  if (o.lock && !fs.existsSync(o.lock)) writeFileAtomic(o.lock, lockText(r.lock));
  if (o.report) {
    const report = linkReport(r, format, image, timing);
    await placeOutput(o.report, (fd) => void fs.writeSync(fd, jsonText(report)), sync);
  }
  if (o.sbom) {
    const doc = spdx(r, image?.rootHash ?? null);
    await placeOutput(o.sbom, (fd) => void fs.writeSync(fd, jsonText(doc)), sync);
  }
  return { link: r, format, image, timing };
}

export function linkReport(r: LinkResult, format: Format, image: ImageReport | null, timing: Record<string, number>): LinkReport {
  return {
    variant: r.variant.name,
    format,
    rootHash: image?.rootHash ?? null,
    salt: image?.salt ?? null,
    dataBlocks: image?.dataBlocks ?? null,
    hashStartBlock: image?.hashStartBlock ?? null,
    table: image?.table ?? null,
    partitions: image?.partitions ?? [],
    size: image?.size ?? null,
    sourceDateEpoch: r.sourceDateEpoch,
    packages: r.lock.packages,
    files: r.nodes.length,
    excluded: r.stats.excluded,
    conflictsResolved: r.stats.resolved,
    actions: r.actions,
    seal: image?.seal ?? null,
    timing,
  };
}

interface WriteImageOptions {
  output: string | undefined;
  saltHex: string;
  sync: boolean;
  timing: Record<string, number>;
  warn: (line: string) => void;
}

async function writeImage(store: Store, r: LinkResult, format: Format, o: WriteImageOptions): Promise<ImageReport | null> {
  const objectPath = (id: string) => store.objects.pathOf(id);
  if (format === 'manifest') {
    const text = JSON.stringify(toManifest(r, (d) => store.putBytes(d))) + '\n';
    await placeOutput(o.output, (fd) => void fs.writeSync(fd, text), o.sync);
    return null;
  }
  if (format === 'dir') {
    const res = writeDir(o.output!, toTreeNodes(r), objectPath);
    for (const s of res.skipped) o.warn(`could not create ${s} in the directory`);
    return null;
  }
  if (format === 'tar') {
    const tar = tarExtents(toTreeNodes(r));
    for (const s of tar.skipped) o.warn(`${s} is a socket; tar cannot hold it`);
    await placeOutput(
      o.output,
      async (fd, target) => {
        const copier = target.seekable ? objectCopier(store) : null;
        const copying = copier?.copy(fd, objectRanges(tar.extents));
        await alongside(
          () => emitExtents(fd, tar.extents, tar.size, objectPath, { ...target, skipObjects: !!copier }),
          () => copying,
        );
      },
      o.sync,
    );
    return null;
  }
  let report: ImageReport | null = null;
  await placeOutput(
    o.output,
    async (fd, target) => {
      // file data is copied by a child process while the image is sealed here
      const copier = target.seekable ? objectCopier(store) : null;
      let copying: Promise<void> | undefined;
      await alongside(
        async () => {
          const t = performance.now();
          const built = await buildImage(store, r, format, { saltHex: o.saltHex, onData: copier ? (ranges) => void (copying = copier.copy(fd, ranges)) : undefined });
          o.timing.layout = ms(t);
          emitExtents(fd, built.extents, built.size, objectPath, { ...target, skipObjects: !!copier });
          report = built.report;
        },
        () => copying,
      );
    },
    o.sync,
  );
  return report;
}

export interface OutputTarget {
  seekable: boolean;
  fresh: boolean;
}

/**
 * Writes to a temp file renamed into place on success, or to stdout; a failure
 * leaves no output file. Like mkfs and cp, it leaves flushing to the kernel
 * unless asked (`sync`).
 */
export async function placeOutput(file: string | undefined, body: (fd: number, target: OutputTarget) => void | Promise<void>, sync: boolean): Promise<void> {
  if (!file || file === '-') {
    const st = fs.fstatSync(1);
    await body(1, { seekable: st.isFile(), fresh: st.isFile() && st.size === 0 });
    return;
  }
  // a link killed mid-write (kill -9) leaves its temp file; the next link to the same path removes it
  removeStaleTemps(file);
  await withAtomicFile(file, (fd) => body(fd, { seekable: true, fresh: true }), { fsync: sync });
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
