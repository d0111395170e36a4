// Dockerfile parser: text or a byte stream -> BuildKit-conformant AST nodes with line numbers, directives, heredocs.

import { KbError } from "../errors.ts";
import type { Directives } from "./_directives.ts";
import { LineMachine, lineRange, type Node, type Warning } from "./_machine.ts";

export type { Node, Warning } from "./_machine.ts";
export type { Directives } from "./_directives.ts";

/** Options of the parsers. */
export interface ParseOptions {
  /** File name used in error locations. @default "Dockerfile" */
  file?: string;
}

/** Result of `parseDockerfile`. */
export interface ParseResult {
  nodes: Node[];
  directives: Directives;
  warnings: Warning[];
  escapeToken: string;
}

/** BuildKit's maximum line size (bufio.MaxScanTokenSize - 1). */
export const MAX_LINE_BYTES = 65535;

function utf8Length(s: string): number {
  if (s.length * 3 <= MAX_LINE_BYTES) return s.length;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Splits a character stream into physical lines, each with its "\n" when it had one; enforces the line limit. */
class LineSplitter {
  private buf = "";
  private lineNo = 0;
  constructor(private readonly file: string) {}

  private check(line: string): void {
    if (utf8Length(line) - (line.endsWith("\n") ? 1 : 0) > MAX_LINE_BYTES) {
      throw new KbError("DOCKERFILE_SYNTAX", `Cannot parse Dockerfile: dockerfile line greater than max allowed size of ${MAX_LINE_BYTES}`, {
        hint: "split the line with a line continuation (\\ at the end of the line)",
        location: lineRange(this.file, this.lineNo + 1),
      });
    }
  }

  /**
   * Yields the lines of `chunk`. Where no partial line is pending, `fast` may first take whole lines itself (the
   * heredoc body path) and says where it stopped and how many lines it took.
   */
  *push(chunk: string, fast?: (chunk: string, pos: number) => [number, number]): Generator<string> {
    // Lines are sliced from the chunk itself: only a line that spans two chunks is joined (joining the leftover
    // with the whole chunk would copy every chunk once more, which a big heredoc pays in memory).
    let start = 0;
    for (;;) {
      if (fast && !this.buf) {
        const [pos, lines] = fast(chunk, start);
        start = pos;
        this.lineNo += lines;
      }
      const nl = chunk.indexOf("\n", start);
      if (nl < 0) break;
      const line = this.buf ? this.buf + chunk.slice(start, nl + 1) : chunk.slice(start, nl + 1);
      this.buf = "";
      this.check(line);
      this.lineNo++;
      yield line;
      start = nl + 1;
    }
    if (start < chunk.length) this.buf += chunk.slice(start);
    this.check(this.buf);
  }

  *end(): Generator<string> {
    if (this.buf.length > 0) yield this.buf;
    this.buf = "";
  }
}

/**
 * Streaming parser: iterate it to get nodes one by one; `directives` and `warnings` fill in as it reads.
 * @example for await (const node of new DockerfileParser(stream)) console.log(node.keyword)
 */
export class DockerfileParser implements AsyncIterable<Node> {
  private readonly machine: LineMachine;
  private readonly file: string;
  constructor(
    private readonly input: ReadableStream<Uint8Array> | AsyncIterable<string>,
    opts: ParseOptions = {},
  ) {
    this.file = opts.file ?? "Dockerfile";
    this.machine = new LineMachine(this.file);
  }
  /** Parser directives (complete once the first instruction has been yielded). */
  get directives(): Directives {
    return this.machine.directives;
  }
  /** Warnings so far (complete when iteration ends). */
  get warnings(): Warning[] {
    return this.machine.warnings;
  }
  get escapeToken(): string {
    return this.machine.directives.escape;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Node> {
    const splitter = new LineSplitter(this.file);
    const fast = (chunk: string, pos: number) => this.machine.pushHeredocLines(chunk, pos);
    for await (const chunk of decodeChunks(this.input)) {
      for (const line of splitter.push(chunk, fast)) yield* this.machine.push(line);
    }
    for (const line of splitter.end()) yield* this.machine.push(line);
    yield* this.machine.end();
  }
}

async function* decodeChunks(input: ReadableStream<Uint8Array> | AsyncIterable<string>): AsyncGenerator<string> {
  if (!(input instanceof ReadableStream)) {
    yield* input;
    return;
  }
  const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  const reader = input.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const s = decoder.decode(value, { stream: true });
      if (s) yield s;
    }
    const tail = decoder.decode();
    if (tail) yield tail;
  } finally {
    reader.releaseLock();
  }
}

/** Parses a Dockerfile stream, yielding nodes one by one. @example for await (const n of parseDockerfileStream(file.stream())) … */
export function parseDockerfileStream(
  input: ReadableStream<Uint8Array> | AsyncIterable<string>,
  opts: ParseOptions = {},
): AsyncGenerator<Node> {
  return new DockerfileParser(input, opts)[Symbol.asyncIterator]();
}

/** Parses Dockerfile text. @example parseDockerfile("FROM alpine\nRUN echo hi\n").nodes.length // 2 */
export function parseDockerfile(text: string, opts: ParseOptions = {}): ParseResult {
  const file = opts.file ?? "Dockerfile";
  const machine = new LineMachine(file);
  const splitter = new LineSplitter(file);
  const nodes: Node[] = [];
  for (const line of splitter.push(text, (chunk, pos) => machine.pushHeredocLines(chunk, pos))) nodes.push(...machine.push(line));
  for (const line of splitter.end()) nodes.push(...machine.push(line));
  nodes.push(...machine.end());
  return { nodes, directives: machine.directives, warnings: machine.warnings, escapeToken: machine.directives.escape };
}
