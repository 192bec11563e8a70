/**
 * A view's nodes: what a link made (its manifest's nodes) plus the mount
 * points weld needs (/proc, /sys, /tmp, /dev and every --bind target). Pure.
 * The node functions live in the linker, which runs generators in views too.
 */
import { manifestNodes } from '../linker/output/manifest.js';
import type { MountPoint } from '../linker/output/viewnodes.js';

export { withMountPoints, metacopyNodes, type MountPoint } from '../linker/output/viewnodes.js';

export const BASE_MOUNTPOINTS: readonly MountPoint[] = [
  { path: '/proc', type: 'dir' },
  { path: '/sys', type: 'dir' },
  { path: '/tmp', type: 'dir' },
  { path: '/dev', type: 'dir' },
];

/** The manifest's nodes as image writers and the FUSE server take them. */
export const nodesOfManifest = manifestNodes;
