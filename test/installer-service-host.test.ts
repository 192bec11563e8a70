/**
 * The installer as the oracle for the service-host set (variants/service-host.toml): weld's link against
 * mmdebstrap's install of the same .debs, every difference pinned under its
 * mechanism in fixtures/installer/service-host.txt (see test/helpers/installer.ts).
 */
import * as vitest from 'vitest';
import path from 'node:path';
import { ROOT } from './helpers/tools.js';
import { installerSuite } from './helpers/installer.js';

await installerSuite('service-host', path.join(ROOT, 'variants/service-host.toml'), vitest);
