/**
 * The layering stays true: no module of src/ imports one from a layer above
 * its own. Every import form counts (static, `import type`, `export … from`,
 * `import()` calls and `import('…').T` types); imports are read with the
 * TypeScript parser, so comments and strings do not count.
 * Tests (*.test.ts) are not layered: they may use any module as an oracle.
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/tools.js';

/** Bottom first; a folder of src/ imports only from its own layer or below. */
const LAYERS: { name: string; folders: string[] }[] = [
  { name: 'util', folders: ['util'] },
  { name: 'formats', folders: ['formats'] },
  { name: 'verity', folders: ['verity'] },
  { name: 'store', folders: ['store'] },
  { name: 'importer', folders: ['importer'] },
  { name: 'linker', folders: ['linker'] },
  { name: 'rooms', folders: ['views', 'fuse', 'initramfs', 'fuzz'] },
  { name: 'cli', folders: ['cli'] },
];
/** the ground every layer may stand on */
const GROUND = new Set(['model.ts', 'errors.ts']);

/** Upward imports tolerated: none. Keep it empty; a new entry needs a reason beside it. */
const ALLOWED: string[] = [];

interface Import {
  /** the specifier, or null when it is computed (`import(name)`) */
  spec: string | null;
  line: number;
}

/** Every module specifier a TypeScript source names, in any import form. */
function importsOf(fileName: string, text: string): Import[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: Import[] = [];
  const add = (node: ts.Node, e: ts.Expression | undefined) => {
    const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
    out.push({ spec: e && ts.isStringLiteralLike(e) ? e.text : null, line });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || (ts.isExportDeclaration(node) && node.moduleSpecifier)) add(node, node.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) add(node, node.moduleReference.expression);
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) add(node, node.arguments[0]);
    else if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'require' && node.arguments.length === 1) add(node, node.arguments[0]);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node, node.argument.literal as ts.Expression);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** The layer of a path relative to src/: its index, 'ground', or null when no layer claims it. */
function layerOf(rel: string): number | 'ground' | null {
  if (GROUND.has(rel)) return 'ground';
  const top = rel.split('/')[0]!;
  const i = LAYERS.findIndex((l) => l.folders.includes(top));
  return i < 0 ? null : i;
}

interface Edge {
  /** importing module, relative to src/ */
  from: string;
  /** the specifier as written (null: computed) */
  spec: string | null;
}

/** Each edge that breaks the layering, as one line of text. Bare specifiers (node:fs, packages) are not modules of src/. */
function violations(edges: Edge[]): string[] {
  const out: string[] = [];
  for (const { from, spec } of edges) {
    const fromLayer = layerOf(from);
    if (fromLayer === null) {
      out.push(`${from}: no layer claims this module`);
      continue;
    }
    if (spec === null) {
      out.push(`${from} → import(<computed>): a computed specifier cannot be checked`);
      continue;
    }
    if (!spec.startsWith('.')) continue;
    const to = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec)).replace(/\.js$/, '.ts');
    if (to.startsWith('../')) {
      out.push(`${from} → ${spec}: outside src/`);
      continue;
    }
    const toLayer = layerOf(to);
    if (toLayer === null) out.push(`${from} → ${to}: no layer claims the imported module`);
    else if (fromLayer === 'ground' && toLayer !== 'ground') out.push(`${from} → ${to}: the ground imports ${LAYERS[toLayer]!.name}`);
    else if (fromLayer !== 'ground' && toLayer !== 'ground' && toLayer > fromLayer) out.push(`${from} → ${to}: ${LAYERS[fromLayer]!.name} imports ${LAYERS[toLayer]!.name}`);
  }
  return [...new Set(out)].sort();
}

function sourceEdges(): Edge[] {
  const src = path.join(ROOT, 'src');
  const edges: Edge[] = [];
  for (const rel of fs.readdirSync(src, { recursive: true, encoding: 'utf8' }).sort()) {
    if (!rel.endsWith('.ts') || rel.endsWith('.test.ts') || rel.endsWith('.d.ts')) continue;
    const posix = rel.split(path.sep).join('/');
    for (const i of importsOf(posix, fs.readFileSync(path.join(src, rel), 'utf8'))) edges.push({ from: posix, spec: i.spec });
  }
  return edges;
}

describe('layers', () => {
  it('reads every import form, and no comment or string', () => {
    const text = [
      "import a from './a.js';",
      "import type { B } from '../b.js';",
      "import './side.js';",
      "export { c } from './c.js';",
      "export * from './d.js';",
      "export type { E } from './e.js';",
      "const f = await import('./f.js');",
      "type G = import('./g.js').G;",
      "const h = require('./h.js');",
      'const i = await import(name);',
      "// import x from './comment.js'",
      "const s = \"import('./string.js')\";",
    ].join('\n');
    expect(importsOf('x.ts', text)).toEqual([
      { spec: './a.js', line: 1 },
      { spec: '../b.js', line: 2 },
      { spec: './side.js', line: 3 },
      { spec: './c.js', line: 4 },
      { spec: './d.js', line: 5 },
      { spec: './e.js', line: 6 },
      { spec: './f.js', line: 7 },
      { spec: './g.js', line: 8 },
      { spec: './h.js', line: 9 },
      { spec: null, line: 10 },
    ]);
  });

  it('catches upward imports and allows downward, sideways and ground ones', () => {
    expect(
      violations([
        { from: 'util/x.ts', spec: '../views/hash.js' },
        { from: 'formats/rpm/header.ts', spec: '../../store/catalog.js' },
        { from: 'linker/output/copy.ts', spec: '../../views/cache.js' },
        { from: 'views/run.ts', spec: '../cli/util.js' },
        { from: 'model.ts', spec: './util/text.js' },
        { from: 'store/x.ts', spec: '../../test/helpers/tools.js' },
        { from: 'store/x.ts', spec: null },
        { from: 'newroom/x.ts', spec: '../util/text.js' },
        { from: 'util/x.ts', spec: '../newroom/y.js' },
        // allowed: down, own layer, another room, ground, packages
        { from: 'cli/link.ts', spec: '../linker/link.js' },
        { from: 'linker/output/copy.ts', spec: '../merge.js' },
        { from: 'fuse/server.ts', spec: '../views/cache.js' },
        { from: 'fuzz/fuzz.ts', spec: '../initramfs/newc.js' },
        { from: 'util/x.ts', spec: '../errors.js' },
        { from: 'formats/rpm/header.ts', spec: '../../model.js' },
        { from: 'errors.ts', spec: './model.js' },
        { from: 'util/x.ts', spec: 'node:fs' },
        { from: 'store/catalog.ts', spec: 'better-sqlite3' },
      ]),
    ).toEqual(
      [
        'util/x.ts → views/hash.ts: util imports rooms',
        'formats/rpm/header.ts → store/catalog.ts: formats imports store',
        'linker/output/copy.ts → views/cache.ts: linker imports rooms',
        'views/run.ts → cli/util.ts: rooms imports cli',
        'model.ts → util/text.ts: the ground imports util',
        'store/x.ts → ../../test/helpers/tools.js: outside src/',
        'store/x.ts → import(<computed>): a computed specifier cannot be checked',
        'newroom/x.ts: no layer claims this module',
        'util/x.ts → newroom/y.ts: no layer claims the imported module',
      ].sort(),
    );
  });

  it('src/ has no upward import beyond the listed ones, and each listed one still exists', () => {
    const found = violations(sourceEdges());
    expect(found.filter((v) => !ALLOWED.includes(v))).toEqual([]);
    expect(ALLOWED.filter((v) => !found.includes(v))).toEqual([]);
  });
});
