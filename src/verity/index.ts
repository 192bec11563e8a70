/** dm-verity: format, tree builder, table line and verifier. */
export * from './format.js';
export * from '../util/uuid.js';
export { BlockHasher } from './digest.js';
export { HashTree, hashData, hashDevice, leafDigests, zeroBlockDigest, type HashTreeOptions, type SealedHashTree } from './hashtree.js';
export { verityTable, type TableInput, type VerityOption } from './table.js';
export { bufferReader, verify, verifyExitCode, type BlockReader, type VerifyOptions, type VerifyResult } from './verify.js';
export { hashTreeFromExtents, type ExtentSource, type SealStats } from './extents.js';
