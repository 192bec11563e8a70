/** GUID Partition Table: pure writer and minimal reader. */
export * from './gpt.js';
export { crc32 } from './crc32.js';
export { guidFromBytes, guidToBytes, hexToGuid } from './guid.js';
