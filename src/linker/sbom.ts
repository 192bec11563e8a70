import crypto from 'node:crypto';
import type { LinkResult } from './link.js';
import { nevra } from '../store/store.js';

const spdxId = (s: string) => 'SPDXRef-' + s.replace(/[^A-Za-z0-9.-]/g, '-');

/**
 * SPDX 2.3 JSON: every package with version, license and digest, plus the
 * files that link-time actions produced. Deterministic: no random namespace,
 * the creation time is SOURCE_DATE_EPOCH.
 */
export function spdx(r: LinkResult, rootHash: string | null): Record<string, unknown> {
  const created = new Date(r.sourceDateEpoch * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const ns = crypto.createHash('sha256').update(JSON.stringify(r.lock.packages)).update(r.variant.name).digest('hex').slice(0, 32);
  const packages = r.packages.map((p) => ({
    SPDXID: spdxId(`Package-${p.row.format}-${nevra(p.row)}`),
    name: p.row.name,
    versionInfo: `${p.row.epoch !== null ? p.row.epoch + ':' : ''}${p.row.version}${p.row.release ? '-' + p.row.release : ''}`,
    supplier: p.header.vendor ? `Organization: ${p.header.vendor}` : p.header.packager ? `Person: ${p.header.packager}` : 'NOASSERTION',
    downloadLocation: 'NOASSERTION',
    filesAnalyzed: false,
    licenseConcluded: 'NOASSERTION',
    licenseDeclared: p.header.license ? p.header.license : 'NOASSERTION',
    copyrightText: 'NOASSERTION',
    checksums: [{ algorithm: 'SHA256', checksumValue: p.row.source_digest }],
    externalRefs: [
      {
        referenceCategory: 'PACKAGE-MANAGER',
        referenceType: 'purl',
        referenceLocator:
          p.row.format === 'deb'
            ? `pkg:deb/debian/${p.row.name}@${encodeURIComponent(`${p.row.epoch !== null ? p.row.epoch + ':' : ''}${p.row.version}${p.row.release ? '-' + p.row.release : ''}`)}?arch=${p.row.arch}`
            : `pkg:rpm/${p.row.name}@${encodeURIComponent(`${p.row.version}-${p.row.release}`)}?arch=${p.row.arch}${p.row.epoch !== null ? `&epoch=${p.row.epoch}` : ''}`,
      },
    ],
    summary: p.header.summary,
  }));
  const generated = r.nodes.filter((n) => n.type === 'file' && n.data && n.origin !== 'weld');
  const files = generated.map((n) => ({
    SPDXID: spdxId(`File${n.path}`),
    fileName: '.' + n.path,
    checksums: [{ algorithm: 'SHA256', checksumValue: crypto.createHash('sha256').update(n.data!).digest('hex') }],
    licenseConcluded: 'NOASSERTION',
    copyrightText: 'NOASSERTION',
    comment: `generated at link time by ${n.origin}`,
  }));
  const root = spdxId(`Image-${r.variant.name}`);
  return {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: `weld-${r.variant.name}`,
    documentNamespace: `https://weld.invalid/spdx/${r.variant.name}/${ns}`,
    creationInfo: { created, creators: ['Tool: weld-0.1.0'] },
    documentDescribes: [root],
    packages: [
      {
        SPDXID: root,
        name: `${r.variant.name} image`,
        versionInfo: rootHash ?? 'unsealed',
        downloadLocation: 'NOASSERTION',
        filesAnalyzed: false,
        licenseConcluded: 'NOASSERTION',
        licenseDeclared: 'NOASSERTION',
        copyrightText: 'NOASSERTION',
        primaryPackagePurpose: 'OPERATING-SYSTEM',
      },
      ...packages,
    ],
    files,
    relationships: [
      ...packages.map((p) => ({ spdxElementId: root, relationshipType: 'CONTAINS', relatedSpdxElement: p.SPDXID })),
      ...files.map((f) => ({ spdxElementId: root, relationshipType: 'CONTAINS', relatedSpdxElement: f.SPDXID })),
    ],
  };
}
