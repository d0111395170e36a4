// Deferred expansion: a new instruction with $VARs resolved in exactly the fields BuildKit expands.

import { KbError } from "../errors.ts";
import { checkChmod, instError } from "./_inst-common.ts";
import { locationOf } from "./_machine.ts";
import { parseMount } from "./_mount.ts";
import { createShellLex, type ShellEnv, type ShellLex } from "./lex.ts";
import type { Instruction, KeyValue, SourceContent } from "./instruction-types.ts";
import { HeredocBody } from "./heredoc-body.ts";
import { collectGarbage } from "../runtime.ts";

const GC_EVERY = 1 << 20;

/** Names referenced while expanding: set (`matched`) or not (`unmatched`, for UndefinedVar warnings). */
export interface ExpansionReport {
  matched: Set<string>;
  unmatched: Set<string>;
}

/**
 * Returns a NEW instruction with variables expanded in: FROM image/--platform, COPY/ADD sources, dest, --chown,
 * --chmod, ADD --checksum and heredoc bodies (unless quoted), ENV/LABEL keys and values, ARG defaults, EXPOSE
 * (word-split), VOLUME, WORKDIR, USER, STOPSIGNAL and RUN --mount values (not `from`). RUN, CMD, ENTRYPOINT, SHELL,
 * HEALTHCHECK, MAINTAINER and ONBUILD are returned unchanged (copied).
 * @example expandInstruction(workdir, createShellLex("\\"), { HOME: "/root" })
 */
export function expandInstruction(inst: Instruction, lex: ShellLex, env: ShellEnv, report?: ExpansionReport): Instruction {
  const word = (w: string): string => {
    const r = lex.processWordWithMatches(w, env, { words: false });
    if (report) {
      r.matched.forEach((n) => report.matched.add(n));
      r.unmatched.forEach((n) => report.unmatched.add(n));
    }
    return r.result;
  };
  const opt = (w: string | undefined) => (w === undefined ? undefined : word(w));
  const kv = (pairs: KeyValue[]) => pairs.map((p) => ({ key: word(p.key), value: word(p.value) }));
  try {
    return expand(inst, word, opt, kv, lex, env, report);
  } catch (e) {
    if (e instanceof KbError && !e.location) e.location = locationOf(inst);
    throw e;
  }
}

function expand(
  inst: Instruction,
  word: (w: string) => string,
  opt: (w: string | undefined) => string | undefined,
  kv: (p: KeyValue[]) => KeyValue[],
  lex: ShellLex,
  env: ShellEnv,
  report?: ExpansionReport,
): Instruction {
  switch (inst.kind) {
    case "FROM": {
      const image = word(inst.image);
      if (image === "") throw instError("FROM", `base name (${inst.image}) should not be blank`, "set the ARG used in the image name, e.g. --build-arg");
      const platform = opt(inst.platform);
      if (platform === "") throw instError("FROM", `platform (${inst.platform}) expanded to an empty string`, "set the ARG used in --platform");
      return { ...inst, image, platform };
    }
    case "COPY":
    case "ADD": {
      const chmod = opt(inst.chmod);
      if (chmod !== undefined) checkChmod(inst.kind, chmod);
      const common = {
        sources: inst.sources.map(word),
        dest: word(inst.dest),
        chown: opt(inst.chown),
        chmod,
        sourceContents: inst.sourceContents.map((c) => expandContent(c, lex, env, report)),
      };
      return inst.kind === "ADD" ? { ...inst, ...common, checksum: opt(inst.checksum) } : { ...inst, ...common };
    }
    case "ENV":
    case "LABEL":
      return { ...inst, pairs: kv(inst.pairs) };
    case "ARG":
      return { ...inst, args: inst.args.map((a) => (a.value === undefined ? { ...a } : { key: a.key, value: word(a.value) })) };
    case "EXPOSE":
      return { ...inst, ports: inst.ports.flatMap((p) => lex.processWords(p, env)) };
    case "VOLUME":
      return {
        ...inst,
        volumes: inst.volumes.map((v) => {
          const out = word(v).trim();
          if (out === "") throw instError("VOLUME", "VOLUME specified can not be an empty string", "give a path, e.g. VOLUME /data");
          return out;
        }),
      };
    case "WORKDIR":
      return { ...inst, path: word(inst.path) };
    case "USER":
      return { ...inst, user: word(inst.user) };
    case "STOPSIGNAL":
      return { ...inst, signal: word(inst.signal) };
    case "RUN":
      return {
        ...inst,
        mounts: inst.mounts.map((m) => {
          if (m.from?.includes("$")) throw instError("RUN", `--mount=from does not support variables ("${m.from}")`, "define a stage with FROM using ARG and mount from it");
          return parseMount(m.raw, word);
        }),
      };
    default:
      return { ...inst };
  }
}

/**
 * A heredoc body: expanded without word splitting; it may grow by at most one word cap over its own size. It is
 * expanded piece by piece (pieces end at line ends): a piece without "$" is kept as it is (shared, not copied), and
 * a piece that ends inside an unfinished ${…} is expanded together with the next one. Expanding here checks the
 * body (errors point at the Dockerfile line), counts it and reports the names; a body that changed is returned
 * lazy, expanded again piece by piece when it is read, so its expanded copy is never held whole.
 */
function expandContent(c: SourceContent, lex: ShellLex, env: ShellEnv, report?: ExpansionReport): SourceContent {
  if (!c.expand) return { ...c };
  const body = createShellLex(lex.escapeToken, { skipProcessQuotes: true, rawEscapes: true, maxWord: lex.maxWord });
  const pieces = c.data.pieces;
  const frozen: ShellEnv = env instanceof Map ? new Map(env) : typeof env.get === "function" ? env : { ...(env as Record<string, string>) };
  function* expanded(rep?: ExpansionReport): Generator<string> {
    let growth = 0;
    let sinceGc = 0;
    let carry = "";
    for (let i = 0; i < pieces.length; i++) {
      const piece = carry + pieces[i]!;
      carry = "";
      if (!piece.includes("$")) {
        yield piece;
        continue;
      }
      let r;
      try {
        r = body.processWordWithMatches(piece, frozen, { words: false, maxWord: piece.length + lex.maxWord - growth });
      } catch (e) {
        if (i + 1 < pieces.length && /missing/.test((e as Error).message)) {
          carry = piece;
          continue;
        }
        throw e;
      }
      growth += r.result.length - piece.length;
      if (rep) {
        r.matched.forEach((n) => rep.matched.add(n));
        r.unmatched.forEach((n) => rep.unmatched.add(n));
      }
      // The result is a rope of one part per plain run and per variable: flattened now, its parts are garbage
      // the collection below frees before the next piece adds more (a big body with variables cost 4× its size).
      r.result.charCodeAt(0);
      sinceGc += piece.length;
      if (sinceGc >= GC_EVERY) {
        sinceGc = 0;
        collectGarbage();
      }
      yield r.result;
    }
  }
  let length = 0;
  let bytes = 0;
  let changed = false;
  let i = 0;
  for (const p of expanded(report ?? { matched: new Set(), unmatched: new Set() })) {
    if (p !== pieces[i++]) changed = true;
    length += p.length;
    bytes += Buffer.byteLength(p);
  }
  return { ...c, data: changed ? HeredocBody.lazy(() => expanded(), length, bytes) : c.data };
}
