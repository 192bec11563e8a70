#!/usr/bin/env node
// `npm run bench -- NAME [options]` runs bench/NAME.mjs (which exports main(argv) → exit code,
// or runs on import); benchmarks are never part of npm test.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dir = path.dirname(fileURLToPath(import.meta.url));
const available = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.mjs') && f !== 'run.mjs' && f !== 'lib.mjs')
  .map((f) => f.slice(0, -4))
  .sort();
const [name, ...rest] = process.argv.slice(2);
if (!name || !available.includes(name)) {
  if (name) process.stderr.write(`bench: no benchmark ${name}\n`);
  process.stderr.write(`usage: npm run bench -- NAME [--runs N]\navailable: ${available.join(', ') || 'none'}\n`);
  process.exitCode = 2;
} else {
  const mod = await import(pathToFileURL(path.join(dir, `${name}.mjs`)).href);
  // A bench exports main(argv); a plain script has already run on import.
  if (typeof mod.main === 'function') process.exitCode = (await mod.main(rest)) ?? 0;
}
