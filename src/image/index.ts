// Public API of the image module: references, platforms, OCI/Docker types and the Image/Layer interfaces.
export * from "./types.ts";
export type * from "./image.ts";
export * from "./reference.ts";
export * from "./platform.ts";
export * from "./assemble.ts";
export * from "./digest.ts";
export * from "./assemble-index.ts";
