import { realpath, type LinkTree } from '../tree.js';

const TEMPLATE = '/usr/share/debianutils/shells';
const SHELLS_D = '/usr/share/debianutils/shells.d';

/** The lines `while read` sees: a last line without its newline is not read. */
const lines = (text: string): string[] => {
  const l = text.split('\n');
  l.pop();
  return l;
};

/**
 * debianutils' update-shells at link time, for a fresh image (no
 * /var/lib/shells.state): /etc/shells (or, when absent, the template) keeps
 * its lines, then every shell the template and shells.d name, each also under
 * its resolved directory, is appended if missing — the script's own
 * algorithm, so the result matches running it (test/debootstrap.test.ts).
 */
export function applyUpdateShells(tree: LinkTree, text: (p: string) => string | undefined): { shells: number } | null {
  const template = tree.get(TEMPLATE)?.type === 'file' ? text(TEMPLATE) : undefined;
  if (template === undefined) return null;
  const sources = [template];
  const prefix = SHELLS_D + '/';
  const snippets = [...tree.nodes.keys()].filter((p) => p.startsWith(prefix) && !p.slice(prefix.length).includes('/') && tree.get(p)!.type === 'file');
  // LC_COLLATE=C.UTF-8 glob order: bytes
  snippets.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  for (const p of snippets) sources.push(text(p) ?? '');
  const pkg: string[] = [];
  for (const src of sources)
    for (const raw of lines(src)) {
      const line = raw.split('#')[0]!;
      if (!line) continue;
      pkg.push(line);
      const slash = line.lastIndexOf('/');
      // dpkg-realpath --root of the directory: every link inside the tree resolved
      const dir = realpath((p) => tree.get(p), slash > 0 ? line.slice(0, slash) : '/') ?? line.slice(0, slash);
      const real = `${dir === '/' ? '' : dir}/${line.slice(slash + 1)}`;
      if (real !== line) pkg.push(real);
    }
  const current = tree.get('/etc/shells');
  const source = current?.type === 'file' ? (text('/etc/shells') ?? '') : template;
  const modeFrom = current?.type === 'file' ? current : tree.get(TEMPLATE)!;
  const out: string[] = [];
  const etc = new Set<string>();
  for (const line of lines(source)) {
    const shell = line.split('#')[0]!;
    // no state file, so no shell counts as locally removed: every line stays (packaged or local)
    if (!shell || !etc.has(shell)) {
      out.push(line);
      etc.add(shell);
    }
  }
  // the script does not add to ETC_SHELLS here: a shell named twice is appended twice, as it does
  for (const shell of pkg) if (!etc.has(shell)) out.push(shell);
  tree.writeFile('/etc/shells', out.map((l) => l + '\n').join(''), 'action:update-shells', modeFrom.mode & 0o7777, modeFrom.user, modeFrom.group);
  return { shells: out.filter((l) => l && !l.startsWith('#')).length };
}
