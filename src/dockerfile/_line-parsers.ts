// BuildKit parser/line_parsers.go + split_command.go: one logical line -> keyword, flags and argument nodes.

import { KbError } from "../errors.ts";
import { isSpace, splitWhitespace, trimLeftSpace, trimSpace } from "./_unicode.ts";

/** What an argument parser returns: argument values, JSON form, and (ONBUILD) the sub-instruction line. */
export interface ParsedArgs {
  args: string[];
  json: boolean;
  subLine?: string;
}

function syntax(message: string, hint: string): KbError {
  return new KbError("DOCKERFILE_SYNTAX", message, { hint });
}

/** BuildKit `extractBuilderFlags`: leading `--flag[=value]` words, quotes removed, escape token honoured. */
export function extractBuilderFlags(line: string, esc: string): { rest: string; flags: string[] } {
  const flags: string[] = [];
  const chars = Array.from(line);
  const n = chars.length;
  let phase: 0 | 1 | 2 = 0; // 0 spaces, 1 word, 2 quote
  let word = "";
  let quote = "";
  let blankOK = false;
  const restAt = (pos: number) => chars.slice(pos).join("");
  for (let pos = 0; pos <= n; pos++) {
    const ch = pos < n ? chars[pos]! : "";
    if (phase === 0) {
      if (pos === n) break;
      if (isSpace(ch)) continue;
      if (ch !== "-" || pos + 1 === n || chars[pos + 1] !== "-") return { rest: restAt(pos), flags };
      phase = 1;
    }
    if (pos === n) {
      if (word !== "--" && (blankOK || word.length > 0)) flags.push(word);
      break;
    }
    if (phase === 1) {
      if (isSpace(ch)) {
        phase = 0;
        if (word === "--") return { rest: restAt(pos), flags };
        if (blankOK || word.length > 0) flags.push(word);
        word = "";
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = 2;
        continue;
      }
      let c = ch;
      if (c === esc) {
        if (pos + 1 === n) continue;
        c = chars[++pos]!;
      }
      word += c;
      continue;
    }
    if (ch === quote) {
      phase = 1;
      continue;
    }
    let c = ch;
    if (c === esc) {
      if (pos + 1 === n) {
        phase = 1;
        continue;
      }
      c = chars[++pos]!;
    }
    word += c;
  }
  return { rest: "", flags };
}

/** BuildKit `splitCommand`: keyword (lowercased), flags and the trimmed argument text. */
export function splitCommand(line: string, esc: string): { keyword: string; flags: string[]; rest: string } {
  const parts = splitWhitespace(trimSpace(line), 2);
  if (parts.length < 2) return { keyword: parts[0]!.toLowerCase(), flags: [], rest: "" };
  const { rest, flags } = extractBuilderFlags(parts[1]!, esc);
  return { keyword: parts[0]!.toLowerCase(), flags, rest: trimSpace(rest) };
}

/** BuildKit `parseWords`: splits on unquoted whitespace, keeping quotes and escapes. */
export function parseWords(rest: string, esc: string): string[] {
  const words: string[] = [];
  const chars = Array.from(rest);
  const n = chars.length;
  let phase: 0 | 1 | 2 = 0;
  let word = "";
  let quote = "";
  let blankOK = false;
  for (let pos = 0; pos <= n; pos++) {
    let ch = pos < n ? chars[pos]! : "";
    if (phase === 0) {
      if (pos === n) break;
      if (isSpace(ch)) continue;
      phase = 1;
    }
    if (pos === n) {
      if (blankOK || word.length > 0) words.push(word);
      break;
    }
    if (phase === 1) {
      if (isSpace(ch)) {
        phase = 0;
        if (blankOK || word.length > 0) words.push(word);
        word = "";
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = 2;
      }
      if (ch === esc) {
        if (pos + 1 === n) continue;
        word += ch;
        ch = chars[++pos]!;
      }
      word += ch;
      continue;
    }
    if (ch === quote) phase = 1;
    if (ch === esc && quote !== "'") {
      if (pos + 1 === n) {
        phase = 1;
        continue;
      }
      word += ch;
      ch = chars[++pos]!;
    }
    word += ch;
  }
  return words;
}

/** BuildKit `parseJSON`: a JSON array of strings, `null` when the text is not JSON (fall back to shell form). */
export function parseJsonArray(rest: string): string[] | null {
  const t = trimLeftSpace(rest);
  if (!t.startsWith("[")) return null;
  let value: unknown;
  try {
    value = JSON.parse(t);
  } catch {
    return null;
  }
  if (!Array.isArray(value)) return null;
  if (!value.every((v) => typeof v === "string")) {
    throw syntax(
      `Cannot parse JSON array "${t}": when using JSON array syntax, arrays must be comprised of strings only`,
      'write every element as a string, e.g. ["echo", "hello"]',
    );
  }
  return value as string[];
}

function maybeJson(rest: string): ParsedArgs {
  if (rest === "") return { args: [], json: false };
  const json = parseJsonArray(rest);
  return json ? { args: json, json: true } : { args: [rest], json: false };
}

function maybeJsonToList(rest: string): ParsedArgs {
  const json = parseJsonArray(rest);
  return json ? { args: json, json: true } : whitespaceDelimited(rest);
}

function whitespaceDelimited(rest: string): ParsedArgs {
  return { args: rest === "" ? [] : splitWhitespace(rest), json: false };
}

function nameVal(rest: string, key: string, esc: string): ParsedArgs {
  const words = parseWords(rest, esc);
  if (words.length === 0) return { args: [], json: false };
  if (!words[0]!.includes("=")) {
    const parts = splitWhitespace(rest, 2);
    if (parts.length < 2) {
      throw syntax(`Cannot parse ${key} "${rest}": ${key} must have two arguments`, `write ${key} ${rest}=<value>`);
    }
    return { args: [parts[0]!, parts[1]!, ""], json: false };
  }
  const args: string[] = [];
  for (const w of words) {
    const eq = w.indexOf("=");
    if (eq < 0) {
      throw syntax(
        `Cannot parse ${key}: Syntax error - can't find = in "${w}". Must be of the form: name=value`,
        `write ${w}=<value>, or quote values that contain spaces`,
      );
    }
    args.push(w.slice(0, eq), w.slice(eq + 1), "=");
  }
  return { args, json: false };
}

function healthConfig(rest: string): ParsedArgs {
  let sep = 0;
  while (sep < rest.length && !isSpace(rest[sep]!)) sep++;
  let next = sep;
  while (next < rest.length && isSpace(rest[next]!)) next++;
  if (sep === 0) return { args: [], json: false };
  const cmd = maybeJson(rest.slice(next));
  return { args: [rest.slice(0, sep), ...cmd.args], json: cmd.json };
}

/** Dispatches on the lowercased keyword like BuildKit's `dispatch` table (unknown keywords give one empty arg). */
export function parseArgs(keyword: string, rest: string, esc: string): ParsedArgs {
  switch (keyword) {
    case "add": case "copy": case "volume":
      return maybeJsonToList(rest);
    case "cmd": case "entrypoint": case "run": case "shell":
      return maybeJson(rest);
    case "from": case "expose":
      return whitespaceDelimited(rest);
    case "env":
      return nameVal(rest, "ENV", esc);
    case "label":
      return nameVal(rest, "LABEL", esc);
    case "arg":
      return { args: parseWords(rest, esc), json: false };
    case "healthcheck":
      return healthConfig(rest);
    case "maintainer": case "stopsignal": case "user": case "workdir":
      return { args: rest === "" ? [] : [rest], json: false };
    case "onbuild":
      return rest === "" ? { args: [], json: false } : { args: [], json: false, subLine: rest };
    default:
      return { args: [""], json: false };
  }
}
