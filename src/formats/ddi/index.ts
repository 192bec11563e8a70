/** Discoverable Disk Images: the DPS type GUIDs and weld's pure DDI layout. */
export { DPS_X86_64 } from './dps.js';
export { DDI_ROOT_START, ddiLayout, ddiPieces, dumpDdi, findDdiPartitions, MIB, type DdiExtent, type DdiInput, type DdiLayout, type DdiPartition, type DdiPiece } from './layout.js';
