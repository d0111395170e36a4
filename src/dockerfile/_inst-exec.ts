// Typed parsers for RUN, COPY, ADD and HEALTHCHECK (the instructions with many flags).

import { parseHeredoc, chompHeredocContent } from "./_heredoc.ts";
import { HeredocBody } from "./heredoc-body.ts";
import { parseFlags } from "./_flags.ts";
import { parseGoDuration } from "./_duration.ts";
import { parseMount } from "./_mount.ts";
import { checkChmod, instError, type InstructionRequest } from "./_inst-common.ts";
import type { AddInstruction, CopyInstruction, HealthcheckInstruction, RunInstruction, SourceContent } from "./instruction-types.ts";

/** RUN [--mount…] [--network] [--security] [--device…] cmd | ["exe", …] (+ heredocs). */
export function parseRun(req: InstructionRequest): RunInstruction {
  const { node } = req;
  const f = parseFlags("RUN", node.flags, { mount: "list", network: "string", security: "string", device: "list" });
  if (node.args.length === 0) throw instError("RUN", "RUN requires at least one argument", "write RUN <command>");
  const network = f.strings.get("network");
  if (network !== undefined && !["default", "none", "host"].includes(network)) {
    throw instError("RUN", `invalid network mode "${network}"`, "use --network=default, none or host");
  }
  const security = f.strings.get("security");
  if (security !== undefined && !["sandbox", "insecure"].includes(security)) {
    throw instError("RUN", `invalid security mode "${security}"`, "use --security=sandbox or insecure");
  }
  return {
    kind: "RUN", location: req.location, original: node.original, command: node.args, json: node.json,
    heredocs: node.heredocs, mounts: (f.lists.get("mount") ?? []).map((m) => parseMount(m)),
    network: network as RunInstruction["network"], security: security as RunInstruction["security"],
    devices: f.lists.get("device") ?? [],
  };
}

function sourcesAndDest(req: InstructionRequest, keyword: string): { sources: string[]; contents: SourceContent[]; dest: string } {
  const args = req.node.args;
  if (args.length < 2) {
    throw instError(keyword, `${keyword} requires at least two arguments, but only ${args.length === 1 ? "one was" : "none were"} provided. Destination could not be determined`, `write ${keyword} <src>... <dest>`);
  }
  const dest = args[args.length - 1]!;
  const json = req.node.json;
  if (!json && parseHeredoc(dest)) throw instError(keyword, `${keyword} cannot accept a heredoc as a destination`, "put the heredoc before the destination");
  const byName = new Map(req.node.heredocs.map((h) => [h.name, h]));
  const sources: string[] = [];
  const contents: SourceContent[] = [];
  for (const src of args.slice(0, -1)) {
    const h = json ? null : parseHeredoc(src);
    if (!h) {
      sources.push(src);
      continue;
    }
    const body = byName.get(h.name)?.content ?? new HeredocBody();
    // Pieces end at line ends, so chomping piece by piece removes exactly the tabs that start a line.
    contents.push({ path: h.name, data: h.chomp ? body.map(chompHeredocContent) : body, expand: h.expand });
  }
  return { sources, contents, dest };
}

/** COPY [--from] [--chown] [--chmod] [--link] [--parents] [--exclude…] <src>... <dest>. */
export function parseCopy(req: InstructionRequest): CopyInstruction {
  const f = parseFlags("COPY", req.node.flags, { from: "string", chown: "string", chmod: "string", link: "bool", parents: "bool", exclude: "list" });
  const { sources, contents, dest } = sourcesAndDest(req, "COPY");
  const chmod = f.strings.get("chmod");
  if (chmod !== undefined) checkChmod("COPY", chmod);
  const from = f.strings.get("from");
  if (from !== undefined && from.includes("$")) {
    throw instError("COPY", `--from does not support variables ("${from}")`, "define a new stage with FROM using ARG, then COPY --from=<that stage>");
  }
  return {
    kind: "COPY", location: req.location, original: req.node.original, sources, sourceContents: contents, dest,
    json: req.node.json, from, chown: f.strings.get("chown"), chmod, link: f.bools.get("link") ?? false,
    parents: f.bools.get("parents") ?? false, exclude: f.lists.get("exclude") ?? [],
  };
}

/** ADD [--chown] [--chmod] [--link] [--exclude…] [--checksum] [--keep-git-dir] [--unpack] <src>... <dest>. */
export function parseAdd(req: InstructionRequest): AddInstruction {
  const f = parseFlags("ADD", req.node.flags, { chown: "string", chmod: "string", link: "bool", exclude: "list", checksum: "string", "keep-git-dir": "bool", unpack: "bool" });
  const { sources, contents, dest } = sourcesAndDest(req, "ADD");
  const chmod = f.strings.get("chmod");
  if (chmod !== undefined) checkChmod("ADD", chmod);
  const checksum = f.strings.get("checksum");
  if (checksum !== undefined && sources.length + contents.length !== 1) {
    throw instError("ADD", "checksum can't be specified for multiple sources", "use one ADD per checksummed source");
  }
  return {
    kind: "ADD", location: req.location, original: req.node.original, sources, sourceContents: contents, dest,
    json: req.node.json, chown: f.strings.get("chown"), chmod, link: f.bools.get("link") ?? false,
    exclude: f.lists.get("exclude") ?? [], checksum, keepGitDir: f.bools.get("keep-git-dir") ?? false,
    unpack: f.bools.get("unpack"),
  };
}

function duration(name: string, value: string | undefined): number {
  if (value === undefined || value === "") return 0;
  let d: number;
  try {
    d = parseGoDuration(value);
  } catch (e) {
    throw instError("HEALTHCHECK", `invalid --${name} "${value}"`, 'use a Go duration such as "30s" or "1m30s"');
  }
  if (d === 0) return 0;
  if (d < 1e6) throw instError("HEALTHCHECK", `Interval "${name}" cannot be less than 1ms`, `give --${name} of at least 1ms (or 0 to inherit)`);
  return d;
}

/** HEALTHCHECK NONE | HEALTHCHECK [--interval --timeout --start-period --start-interval --retries] CMD … */
export function parseHealthcheck(req: InstructionRequest): HealthcheckInstruction {
  const { node } = req;
  const f = parseFlags("HEALTHCHECK", node.flags, { interval: "string", timeout: "string", "start-period": "string", "start-interval": "string", retries: "string" });
  if (node.args.length === 0) throw instError("HEALTHCHECK", "HEALTHCHECK requires an argument", "write HEALTHCHECK CMD <command> or HEALTHCHECK NONE");
  const typ = node.args[0]!.toUpperCase();
  const rest = node.args.slice(1);
  const base = { kind: "HEALTHCHECK" as const, location: req.location, original: node.original };
  if (typ === "NONE") {
    if (rest.length !== 0) throw instError("HEALTHCHECK", "HEALTHCHECK NONE takes no arguments", "write just HEALTHCHECK NONE");
    return { ...base, test: ["NONE"], interval: 0, timeout: 0, startPeriod: 0, startInterval: 0, retries: 0 };
  }
  if (typ !== "CMD") throw instError("HEALTHCHECK", `Unknown type "${typ}" in HEALTHCHECK (try CMD)`, "write HEALTHCHECK CMD <command>");
  if (rest.length === 0) throw instError("HEALTHCHECK", "Missing command after HEALTHCHECK CMD", "write HEALTHCHECK CMD <command>");
  const retriesRaw = f.strings.get("retries");
  let retries = 0;
  if (retriesRaw !== undefined) {
    if (!/^[-+]?\d+$/.test(retriesRaw)) throw instError("HEALTHCHECK", `invalid --retries "${retriesRaw}"`, "give an integer, e.g. --retries=3");
    retries = Number(retriesRaw);
    if (retries < 0) throw instError("HEALTHCHECK", `--retries cannot be negative (${retries})`, "give 0 or more");
  }
  return {
    ...base,
    test: node.json ? ["CMD", ...rest] : ["CMD-SHELL", rest.join(" ")],
    interval: duration("interval", f.strings.get("interval")),
    timeout: duration("timeout", f.strings.get("timeout")),
    startPeriod: duration("start-period", f.strings.get("start-period")),
    startInterval: duration("start-interval", f.strings.get("start-interval")),
    retries,
  };
}
