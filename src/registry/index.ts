// Public API of the registry module: client, credentials, pull and push.
export { createRegistryClient } from "./client.ts";
export type { ProgressEvent, RegistryClient, RegistryClientOptions, RegistryRequest, RegistryResponse } from "./client.ts";
export * from "./credentials.ts";
export { redact } from "./redact.ts";
export { parseWwwAuthenticate, type Challenge } from "./www-authenticate.ts";
export { errorStatus, hasRegistryCode, isTemporaryStatus, RegistryResponseError } from "./errors.ts";
export { fetchManifest, readRemote, resolveImage, resolveIndex, RemoteImage, MANIFEST_CAP, type FetchedManifest, type ResolvedIndex } from "./remote-image.ts";
export { pushImage, pushIndex, sourceRepositoryOf, type PushOptions, type PushResult } from "./push.ts";
export { MANIFEST_ACCEPT } from "./_manifest.ts";
export { parseManifestDocument } from "./_manifest.ts";
export { checkPushAccess, defaultCredentialOrigin, type CredentialOrigin, type PushTarget } from "./push-check.ts";
export { composeIndex } from "./compose-index.ts";
export { registrySink, registrySource } from "./sink.ts";
