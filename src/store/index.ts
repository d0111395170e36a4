// The content-addressed store: blobs, build-cache index, trees, locks, maintenance, store-backed images.

export { defaultStoreDir, openBlobDir, openStore, type BlobStore, type PutOptions, type Store, type StoreDirs } from "./blob-store.ts";
export { type CacheIndex, type CacheRecord, type CacheRecordInput } from "./cache-index.ts";
export { withLock, pidAlive, type LockOptions } from "./lock.ts";
export { du, prune, verify, type PruneOptions, type PruneReport, type StoreUsage, type Usage, type VerifyReport } from "./maintenance.ts";
export { fileStream, readAllBytes, writeStreamTo, type FileStreamOptions } from "./file-stream.ts";
export { blobLayer, checkManifest, imageFromBlobs, parseJson, putImage, readBlobBytes, storeImage, type BlobSource } from "./store-image.ts";
export { GC_LOCK, leaseAlive, livePins, takeLease, type Lease, type LivePins, type PinKind } from "./leases.ts";
export { collectGarbage, defaultStoreCap, storeBytes, storeCap, FALLBACK_CAP, type GcOptions, type GcReport } from "./gc.ts";
