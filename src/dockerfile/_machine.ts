// The line state machine of BuildKit's parser.Parse: physical lines in, AST nodes out (push-based, for streaming).

import { KbError, type SourceLocation } from "../errors.ts";
import { DirectiveScanner, type Directives } from "./_directives.ts";
import { heredocsFromLine, type Heredoc } from "./_heredoc.ts";
import { HEREDOC_PIECE, HeredocBody } from "./heredoc-body.ts";
import { parseArgs, splitCommand } from "./_line-parsers.ts";
import { trimLeftSpace } from "./_unicode.ts";
import type { InstructionLocation } from "./instruction-types.ts";

/** One instruction of the AST (BuildKit `parser.Node`). */
export interface Node {
  /** Lowercased keyword (`from`, `run`, or an unknown word). */
  keyword: string;
  /** Argument values (BuildKit's `Next` chain); ENV/LABEL give key, value, separator triples. */
  args: string[];
  /** Flags exactly as written minus quotes: `--from=build`. */
  flags: string[];
  /** True when the arguments were a JSON array (exec form). */
  json: boolean;
  heredocs: Heredoc[];
  /** The logical line (continuations joined). */
  original: string;
  startLine: number;
  endLine: number;
  /** ONBUILD: the wrapped instruction. */
  sub?: Node;
}

/** A non-fatal finding of the parser (BuildKit `parser.Warning`). */
export interface Warning {
  rule: string;
  message: string;
  detail?: string;
  url?: string;
  line: number;
}

const HEREDOC_KEYWORDS = new Set(["add", "copy", "run"]);
/** Lines longer than this (in code units) leave the heredoc fast path, so `push` checks their size in bytes. */
const LONG_LINE = 16384;
/** Body text at least this long is kept as it is rather than joined with its neighbours. */
const LONG_RUN = 65536;

function trimNewline(s: string): string {
  let end = s.length;
  while (end > 0 && (s[end - 1] === "\n" || s[end - 1] === "\r")) end--;
  return end === s.length ? s : s.slice(0, end);
}

function isComment(raw: string): boolean {
  return trimLeftSpace(trimNewline(raw)).startsWith("#");
}

/** Location of lines `start..end` in `file`. */
export function lineRange(file: string, start: number, end = start): SourceLocation {
  return { file, start: { line: start, col: 1 }, end: { line: end, col: 1 } };
}

/** Location of an instruction's lines, for errors. @example locationOf(inst) // { file: "Dockerfile", start: { line: 3, col: 1 }, … } */
export function locationOf(inst: { location: InstructionLocation }): SourceLocation {
  return lineRange(inst.location.file, inst.location.startLine, inst.location.endLine);
}

/** Builds a node from a logical line (BuildKit `newNodeFromLine`), recursing for ONBUILD. */
export function nodeFromLine(line: string, esc: string, startLine: number, endLine: number): Node {
  const { keyword, flags, rest } = splitCommand(line, esc);
  const parsed = parseArgs(keyword, rest, esc);
  const node: Node = { keyword, args: parsed.args, flags, json: parsed.json, heredocs: [], original: line, startLine, endLine };
  if (parsed.subLine !== undefined) node.sub = nodeFromLine(parsed.subLine, esc, startLine, endLine);
  return node;
}

function canContainHeredoc(node: Node): boolean {
  const n = node.keyword === "onbuild" && node.sub ? node.sub : node;
  return HEREDOC_KEYWORDS.has(n.keyword) && !n.json;
}

/** Push-based parser: `push()` each physical line (with its "\n" if it had one), then `end()`. */
export class LineMachine {
  readonly scanner = new DirectiveScanner();
  readonly warnings: Warning[] = [];
  private lineNo = 0;
  private count = 0;
  private cont: { line: string; start: number; emptyCont: boolean } | null = null;
  private pending: { node: Node; docs: Heredoc[]; doc: Heredoc } | null = null;
  private lines: string[] | undefined;
  private pieces: string[] | undefined;
  private linesLength = 0;
  private contRe = /([^\\])\\[ \t]*$|^\\[ \t]*$/;
  private contEsc = "\\";

  constructor(private readonly file: string) {}

  get directives(): Directives {
    return this.scanner.directives;
  }
  /** Instructions emitted so far. */
  get nodeCount(): number {
    return this.count;
  }

  private err(e: unknown, start: number, end = start): KbError {
    const k = e instanceof KbError ? e : new KbError("DOCKERFILE_SYNTAX", `Cannot parse Dockerfile: ${String(e)}`);
    if (!k.location) k.location = lineRange(this.file, start, end);
    return k;
  }

  private processLine(raw: string, stripLeft: boolean): string {
    let token = trimNewline(raw);
    if (stripLeft) token = trimLeftSpace(token);
    try {
      this.scanner.scan(token);
    } catch (e) {
      throw this.err(e, this.lineNo);
    }
    return isComment(token) ? "" : token;
  }

  private trimContinuation(line: string): [string, boolean] {
    const esc = this.scanner.directives.escape;
    if (esc !== this.contEsc) {
      const e = esc === "`" ? "`" : "\\\\";
      this.contRe = new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`);
      this.contEsc = esc;
    }
    const m = this.contRe.exec(line);
    if (!m) return [line, true];
    return [line.slice(0, m.index) + (m[1] ?? ""), false];
  }

  /** Feeds one physical line; returns the nodes it completed. */
  push(raw: string): Node[] {
    if (this.pending) return this.pushHeredoc(raw);
    if (this.cont) {
      this.lineNo++;
      const token = this.processLine(raw, false);
      if (isComment(raw)) return [];
      if (trimLeftSpace(token).length === 0) {
        this.cont.emptyCont = true;
        return [];
      }
      const [part, isEnd] = this.trimContinuation(token);
      this.cont.line += part;
      return isEnd ? this.finish() : [];
    }
    if (this.lineNo === 0 && raw.charCodeAt(0) === 0xfeff) raw = raw.slice(1);
    this.lineNo++;
    const token = this.processLine(raw, true);
    const [line, isEnd] = this.trimContinuation(token);
    if (isEnd && line === "") return [];
    this.cont = { line, start: this.lineNo, emptyCont: false };
    return isEnd ? this.finish() : [];
  }

  private finish(): Node[] {
    const { line, start, emptyCont } = this.cont!;
    this.cont = null;
    if (emptyCont) {
      this.warnings.push({
        rule: "NoEmptyContinuation",
        message: "Empty continuation line found in: " + line,
        detail: "Empty continuation lines will become errors in a future release",
        url: "https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/",
        line: this.lineNo,
      });
    }
    let node: Node;
    let docs: Heredoc[] = [];
    try {
      node = nodeFromLine(line, this.scanner.directives.escape, start, this.lineNo);
      if (canContainHeredoc(node) && line.includes("<<")) docs = heredocsFromLine(line);
    } catch (e) {
      throw this.err(e, start, this.lineNo);
    }
    if (docs.length > 0) {
      this.pending = { node, docs, doc: docs.shift()! };
      return [];
    }
    this.count++;
    return [node];
  }

  /** Adds body text (whole lines) to the open heredoc. */
  private addBody(text: string): void {
    // Text is gathered and joined in ~1 MiB pieces that the body keeps (HeredocBody): appending line by line
    // builds a rope ~6× the body's size, keeping every line (a slice of its input chunk) keeps every chunk
    // alive, and joining the pieces at the end would copy the whole body once more.
    // A long run of lines (a slice of one input chunk, from the fast path) is kept as a piece of its own: joining
    // it would copy it, and the chunk it shares is mostly that run anyway.
    if (text.length >= LONG_RUN) {
      this.flushLines();
      (this.pieces ??= []).push(text);
      return;
    }
    (this.lines ??= []).push(text);
    this.linesLength += text.length;
    if (this.linesLength >= HEREDOC_PIECE) this.flushLines();
  }

  private flushLines(): void {
    if (this.lines?.length) {
      (this.pieces ??= []).push(this.lines.join(""));
      this.lines = [];
      this.linesLength = 0;
    }
  }

  /**
   * The heredoc fast path: takes the body lines of `chunk` from `pos` as one slice, not a string per line (a
   * string per 80-byte line costs about a third of the body again). It stops before a terminator candidate, a
   * line without its "\n" or a long one (those go through `push`). Returns where it stopped and how many lines
   * it took.
   */
  pushHeredocLines(chunk: string, pos: number): [number, number] {
    const p = this.pending;
    if (!p) return [pos, 0];
    const { name, chomp } = p.doc;
    let s = pos;
    let n = 0;
    for (;;) {
      const nl = chunk.indexOf("\n", s);
      if (nl < 0 || nl - s > LONG_LINE) break;
      let a = s;
      if (chomp) while (chunk.charCodeAt(a) === 9) a++;
      let e = nl;
      while (e > a && chunk.charCodeAt(e - 1) === 13) e--;
      if (e - a === name.length && chunk.startsWith(name, a)) break;
      s = nl + 1;
      n++;
    }
    if (s > pos) this.addBody(chunk.slice(pos, s));
    this.lineNo += n;
    return [s, n];
  }

  private pushHeredoc(raw: string): Node[] {
    const p = this.pending!;
    this.lineNo++;
    let candidate = trimNewline(raw);
    if (p.doc.chomp) candidate = candidate.replace(/^\t+/, "");
    if (candidate !== p.doc.name) {
      this.addBody(raw);
      return [];
    }
    if (this.lines || this.pieces) p.doc.content = new HeredocBody([...(this.pieces ?? []), (this.lines ?? []).join("")]);
    this.lines = undefined;
    this.pieces = undefined;
    this.linesLength = 0;
    p.node.heredocs.push(p.doc);
    const next = p.docs.shift();
    if (next) {
      p.doc = next;
      return [];
    }
    this.pending = null;
    p.node.endLine = this.lineNo;
    if (p.node.sub) p.node.sub.endLine = this.lineNo;
    this.count++;
    return [p.node];
  }

  /** Ends the input: finishes a trailing continuation, rejects an open heredoc or an empty file. */
  end(): Node[] {
    const out = this.cont ? this.finish() : [];
    if (this.pending) {
      throw this.err(
        new KbError("DOCKERFILE_SYNTAX", `Cannot parse heredoc "${this.pending.doc.name}": unterminated heredoc`, {
          hint: `end the heredoc with a line that is exactly "${this.pending.doc.name}"`,
        }),
        this.pending.node.startLine,
        this.lineNo,
      );
    }
    if (this.count === 0) {
      throw new KbError("DOCKERFILE_SYNTAX", "Cannot parse Dockerfile: file with no instructions", {
        hint: "add at least a FROM instruction",
        location: lineRange(this.file, Math.max(1, this.lineNo)),
      });
    }
    return out;
  }
}
