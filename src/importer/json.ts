import type { FileEntry, FileJson, PackageJson, PackageMeta } from '../model.js';

/** The stable JSON shape shared by `inspect --json` and `show --files --json`. */
export function toPackageJson(meta: PackageMeta): PackageJson {
  const { files, ...rest } = meta;
  return { ...rest, files: files.map(fileJson) };
}

function fileJson(f: FileEntry): FileJson {
  return {
    path: f.path,
    type: f.type,
    mode: f.mode,
    user: f.user,
    group: f.group,
    size: f.size,
    mtime: f.mtime,
    digest: f.digest,
    digestAlgo: f.digestAlgo,
    target: f.target,
    flags: [...f.flags].sort(),
    caps: f.caps,
    object: f.object,
  };
}
