/**
 * The installer as the oracle for the k8s set (variants/k8s.toml): weld's link against
 * mmdebstrap's install of the same .debs, every difference pinned under its
 * mechanism in fixtures/installer/k8s.txt (see test/helpers/installer.ts).
 */
import * as vitest from 'vitest';
import path from 'node:path';
import { ROOT } from './helpers/tools.js';
import { installerSuite } from './helpers/installer.js';

await installerSuite('k8s', path.join(ROOT, 'variants/k8s.toml'), vitest);
