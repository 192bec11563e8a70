/**
 * The installer as the oracle for the minbase set (bench/variants/minbase.toml): weld's link against
 * mmdebstrap's install of the same .debs, every difference pinned under its
 * mechanism in fixtures/installer/minbase.txt (see test/helpers/installer.ts).
 */
import * as vitest from 'vitest';
import path from 'node:path';
import { ROOT } from './helpers/tools.js';
import { installerSuite } from './helpers/installer.js';

await installerSuite('minbase', path.join(ROOT, 'bench/variants/minbase.toml'), vitest);
