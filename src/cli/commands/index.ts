// The commands' parsers of user text, for whoever checks them apart from a whole command: cache sizes and ages,
// and the image locations push, pull and inspect take (oci:DIR[:TAG], docker-archive:FILE[:REF], REF).

export { parseAge, parseSize } from "./cache.ts";
export { parseImageLocation, type ImageLocation } from "./_common.ts";
