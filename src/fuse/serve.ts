/**
 * Entry point of the FUSE server that `weld run --fuse` starts inside the
 * private mount namespace: fd 3 is the /dev/fuse connection the helper mounted.
 *   node serve.js MANIFEST OBJECTS_DIR MOUNTPOINTS_JSON
 */
import fs from 'node:fs';
import type { Manifest } from '../linker/output/manifest.js';
import { nodesOfManifest, withMountPoints, type MountPoint } from '../views/nodes.js';
import { serveFuseBlocking } from './server.js';

const [manifestFile, objectsDir, mps] = process.argv.slice(2);
if (!manifestFile || !objectsDir || !mps) {
  process.stderr.write('usage: serve.js MANIFEST OBJECTS_DIR MOUNTPOINTS_JSON (fd 3: /dev/fuse)\n');
  process.exit(125);
}
const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as Manifest;
const nodes = withMountPoints(nodesOfManifest(manifest), JSON.parse(mps) as MountPoint[]);
// signals are for the command; the server ends with the connection or when its parent dies
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, () => {});
serveFuseBlocking(3, nodes, objectsDir, (s) => void process.stderr.write(s));
process.exit(0);
