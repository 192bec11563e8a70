/**
 * Partition type GUIDs of the UAPI Discoverable Partitions Specification
 * (https://uapi-group.org/specifications/specs/discoverable_partitions_specification/).
 * systemd-dissect, systemd-gpt-auto-generator and weld's initramfs find the
 * root and its verity partition by these types alone.
 */
/** x86-64 */
export const DPS_X86_64 = {
  root: '4f68bce3-e8cd-4db1-96e7-fbcaf984b709',
  rootVerity: '2c7357ed-ebd2-46d9-aec1-23d437ec2bf5',
  rootVeritySig: '41092b05-9fc8-4523-994f-2def0408b176',
  usr: '8484680c-9521-48c6-9c11-b0720656f69e',
  usrVerity: '77ff5f63-e7b6-4633-acf4-1565b864c0e6',
  esp: 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b',
} as const;

