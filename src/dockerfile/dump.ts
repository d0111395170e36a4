// BuildKit `AST.Dump()`: the S-expression form the parser corpus compares byte for byte.

import { goQuote, goQuoteList } from "./_go-quote.ts";
import type { Node } from "./_machine.ts";

function dumpNode(node: Node): string {
  let s = node.keyword.toLowerCase();
  if (node.flags.length > 0) s += " " + goQuoteList(node.flags);
  if (node.sub) s += " " + ("(" + dumpNode(node.sub) + ")\n").trim();
  for (const a of node.args) s += " " + goQuote(a);
  return s.trim();
}

/** Dumps nodes like BuildKit's `AST.Dump()` plus the final "\n" of the corpus files. @example dumpNodes(nodes) // '(from "alpine")\n' */
export function dumpNodes(nodes: readonly Node[]): string {
  return nodes.map((n) => "(" + dumpNode(n) + ")\n").join("");
}
