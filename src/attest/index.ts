// Supply-chain attestations: SBOM scanners, SPDX, provenance, in-toto statements and the attestation manifest.

export { imageSbom, scanImage, defaultScanners, storeScanCache, type ScanResult, type ImageSbomOptions, type ScanOptions } from "./sbom.ts";
export { spdxDocument, toLicenseExpression, type SpdxSubject } from "./spdx.ts";
export { purlOf, type FoundPackage, type Scanner } from "./package.ts";
export { walkLayers, scanLayerTar, readCapped, type FileScanner, type LayerScan, type LayerScanCache, type WalkStats } from "./layer-walk.ts";
