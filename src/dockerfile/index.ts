// Public API of the Dockerfile front end: parser, dump, shell lexer, typed instructions.

export { parseDockerfile, parseDockerfileStream, DockerfileParser, MAX_LINE_BYTES } from "./parse.ts";
export type { Node, Warning, Directives, ParseOptions, ParseResult } from "./parse.ts";
export { dumpNodes } from "./dump.ts";
export { parseHeredoc, heredocsFromLine, chompHeredocContent } from "./_heredoc.ts";
export type { Heredoc } from "./_heredoc.ts";
export { HeredocBody, HEREDOC_PIECE } from "./heredoc-body.ts";
export { createShellLex } from "./lex.ts";
export type { ShellLex, ShellEnv, ShellLexOptions, ProcessWordResult } from "./lex.ts";
export { convertShellPatternToRegex, reversePattern } from "./_pattern.ts";
export { parseInstructions, toInstruction, parseInstructionLine } from "./instructions.ts";
export type { InstructionOptions, ParsedStages } from "./instructions.ts";
export { expandInstruction } from "./expand.ts";
export type { ExpansionReport } from "./expand.ts";
export { parseGoDuration } from "./_duration.ts";
export { locationOf } from "./_machine.ts";
export type * from "./instruction-types.ts";
