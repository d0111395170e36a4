// The one place that makes untrusted text (Dockerfile lines, registry labels and env, layer entry names, error
// messages) safe for a terminal: no escape sequence (ESC, CSI, OSC title changes, BEL, clear screen) and no
// bidirectional override reaches it. Used by error rendering, step headers, progress, the report and inspect.

/** C0 controls but tab and newline, DEL, C1 controls (0x9b is CSI on some terminals), bidi embeddings/isolates, U+FFFD. */
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\ufffd]/g;

const hex = (c: string, width: number) => c.charCodeAt(0).toString(16).padStart(width, "0");

/**
 * Text safe to print: unsafe characters become `\xHH` (`\u{HHHH}` for bidi controls), undecodable bytes "?".
 * @example printable("a\x1b]0;T\x07") // "a\\x1b]0;T\\x07"
 */
export function printable(text: string): string {
  return text.replace(UNSAFE, (c) => (c === "\ufffd" ? "?" : c.charCodeAt(0) > 0xff ? `\\u{${hex(c, 4)}}` : `\\x${hex(c, 2)}`));
}

/** JSON text safe to print: like JSON.stringify, with the characters it leaves raw (C1, bidi) as \uHHHH escapes. */
export function printableJson(value: unknown, space?: number): string {
  return JSON.stringify(value, null, space).replace(UNSAFE, (c) => `\\u${hex(c, 4)}`);
}
