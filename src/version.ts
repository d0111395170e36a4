// Version information; build.ts replaces the placeholders at compile time.

declare const KB_VERSION: string | undefined;
declare const KB_COMMIT: string | undefined;
declare const KB_VARIANT: string | undefined;

/** Version, commit and build variant of this kb. */
export function versionInfo(): { version: string; commit: string; variant: string; platform: string } {
  const version = typeof KB_VERSION === "string" ? KB_VERSION : "0.1.0-dev";
  const commit = typeof KB_COMMIT === "string" ? KB_COMMIT : "unknown";
  const variant = typeof KB_VARIANT === "string" ? KB_VARIANT : "source";
  return { version, commit, variant, platform: `${process.platform}/${process.arch === "x64" ? "amd64" : process.arch}` };
}
