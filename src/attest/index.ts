// Supply-chain attestations: SBOM scanners, SPDX, provenance, in-toto statements and the attestation manifest.

export { imageSbom, scanImage, defaultScanners, type ScanResult, type ImageSbomOptions } from "./sbom.ts";
export { spdxDocument, toLicenseExpression, type SpdxSubject } from "./spdx.ts";
export { purlOf, type FoundPackage, type Scanner } from "./package.ts";
export { walkVisibleFiles, readCapped, type VisibleFile, type FileVisitor } from "./layer-walk.ts";
