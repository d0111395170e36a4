import { describe, expect, test } from "bun:test";
import { isKbError, type KbError } from "../errors.ts";
import { createShellLex, expandInstruction, parseDockerfile, parseGoDuration, parseInstructions, type Instruction } from "./index.ts";

function stage(body: string, file = "Dockerfile") {
  return parseInstructions(parseDockerfile("FROM base\n" + body + "\n").nodes, { file }).stages[0]!;
}
function one<K extends Instruction["kind"]>(body: string, kind: K): Extract<Instruction, { kind: K }> {
  const i = stage(body).instructions[0]!;
  expect(i.kind).toBe(kind);
  return i as Extract<Instruction, { kind: K }>;
}
function rejects(body: string, message: RegExp, hint?: RegExp): KbError {
  try {
    stage(body);
  } catch (e) {
    expect(isKbError(e)).toBe(true);
    const k = e as KbError;
    expect(k.message).toMatch(message);
    if (hint) expect(k.hint ?? "").toMatch(hint);
    expect(k.location?.start.line).toBeGreaterThanOrEqual(2);
    return k;
  }
  throw new Error(`expected "${body}" to be rejected`);
}
const lex = createShellLex("\\");

describe("parseInstructions()", () => {
  test("splits meta ARGs and stages, lowercases and validates stage names", () => {
    const r = parseInstructions(parseDockerfile("ARG V=1\nFROM --platform=$P img:$V AS Build\nRUN x\nFROM build\n").nodes);
    expect(r.metaArgs[0]!.args).toEqual([{ key: "V", value: "1" }]);
    expect(r.stages.map((s) => [s.name, s.index, s.from.image, s.instructions.length])).toEqual([["build", 0, "img:$V", 1], [undefined, 1, "build", 0]]);
    expect(r.stages[0]!.from.platform).toBe("$P");
    expect(r.stages[0]!.from.location).toEqual({ file: "Dockerfile", startLine: 2, endLine: 2 });
  });
  test("rejects instructions before FROM, no stages, bad FROM forms and bad stage names", () => {
    expect(() => parseInstructions(parseDockerfile("RUN x\nFROM a").nodes)).toThrow(/no build stage/);
    expect(() => parseInstructions(parseDockerfile("ARG x").nodes)).toThrow(/no stages/);
    rejects("FROM", /one or three arguments/);
    rejects("FROM a b", /one or three arguments/);
    rejects("FROM a IS b", /expected "AS"/);
    rejects("FROM a AS 1x", /invalid name for build stage/);
    rejects("FROM --plaform=x a", /unknown flag "--plaform"/, /did you mean --platform\?/);
  });
  test("warns on duplicate stage names", () => {
    const r = parseInstructions(parseDockerfile("FROM a AS x\nFROM b AS x\n").nodes);
    expect(r.warnings[0]!.rule).toBe("DuplicateStageName");
  });
  test("rejects unknown instructions with a suggestion", () => {
    rejects("RUNN x", /unknown instruction/, /did you mean RUN\?/);
    rejects("COPPY a b", /unknown instruction/, /did you mean COPY\?/);
  });
  test("a line that is not even a word (another file given as the Dockerfile) is not echoed", () => {
    const e = rejects("root:$6$secret-hash:19000:0:99999:7:::", /does not start with an instruction/, /is this file a Dockerfile/);
    expect(e.message).not.toContain("SECRET");
    expect(e.locationOnly).toBe(true);
  });
});

describe("RUN", () => {
  test("shell and exec form, heredocs, network, security, device", () => {
    const r = one("RUN --network=none --security=insecure --device=nvidia.com/gpu=all <<EOF\necho hi\nEOF", "RUN");
    expect([r.command, r.json, r.network, r.security, r.devices, r.heredocs[0]!.content.text()]).toEqual([["<<EOF"], false, "none", "insecure", ["nvidia.com/gpu=all"], "echo hi\n"]);
    expect(one('RUN ["a", "b c"]', "RUN")).toMatchObject({ command: ["a", "b c"], json: true });
  });
  test("parses every --mount type and option", () => {
    const r = one([
      "RUN --mount=target=/a,source=s,from=st,rw",
      "--mount=type=cache,id=c,dst=/c,sharing=locked,uid=1,gid=2,mode=0700,ro",
      "--mount=type=tmpfs,destination=/t,size=64m",
      "--mount=type=secret,id=tok,env=TOKEN,required,mode=0400",
      "--mount=type=secret,src=k,target=/k",
      "--mount=type=ssh,required=false,uid=5 x",
    ].join(" "), "RUN");
    const m = r.mounts.map(({ raw: _r, ...rest }) => rest);
    expect(m).toEqual([
      { type: "bind", target: "/a", source: "s", from: "st", readOnly: false, required: false },
      { type: "cache", id: "c", target: "/c", sharing: "locked", uid: 1, gid: 2, mode: 0o700, readOnly: true, required: false },
      { type: "tmpfs", target: "/t", size: 64 * 1024 * 1024, readOnly: false, required: false },
      { type: "secret", id: "tok", env: "TOKEN", required: true, mode: 0o400, readOnly: true },
      { type: "secret", id: "k", target: "/k", readOnly: true, required: false },
      { type: "ssh", required: false, uid: 5, readOnly: true },
    ]);
  });
  test("rejects bad mounts, network and security values", () => {
    rejects("RUN --mount=type=cache x", /requires a target/);
    rejects("RUN --mount=type=cahce,target=/x x", /unsupported mount type/, /did you mean type=cache\?/);
    rejects("RUN --mount=target=/x,foo=1 x", /unexpected key "foo"/);
    rejects("RUN --mount=target=/x,uid=1 x", /uid not allowed/);
    rejects("RUN --mount=type=cache,target=/x,size=1m x", /size/);
    rejects("RUN --mount=target=/x,sharing=shared x", /sharing/);
    rejects("RUN --mount=type=cache,target=/x,sharing=bogus x", /sharing mode/);
    rejects("RUN --mount=type=secret,id=a,source=b x", /both source and id/);
    rejects("RUN --mount=type=secret,from=x,id=a x", /should not have a from/);
    rejects("RUN --mount=type=ssh,source=x x", /should not have a source/);
    rejects("RUN --mount=target=/x,bogus x", /key=value pair/);
    rejects("RUN --mount=target=/x,mode=9 x", /mode/);
    rejects("RUN --network=bridge x", /invalid network mode/);
    rejects("RUN --security=privileged x", /invalid security mode/);
    rejects("RUN --mout=type=cache x", /unknown flag/, /did you mean --mount\?/);
    rejects("RUN --network x", /missing a value/);
    rejects("RUN --network=none --network=host x", /duplicate flag/);
    rejects("RUN", /at least one argument/);
  });
  test("expandInstruction() expands mount values but not from, and RUN text never", () => {
    const r = one("RUN --mount=type=cache,target=$T,uid=$U,from=st echo $T", "RUN");
    expect(r.mounts[0]!.uid).toBeUndefined();
    const e = expandInstruction(r, lex, { T: "/cache", U: "7" }) as typeof r;
    expect([e.mounts[0]!.target, e.mounts[0]!.uid, e.command]).toEqual(["/cache", 7, ["echo $T"]]);
    expect(r.mounts[0]!.target).toBe("$T");
    const bad = one("RUN --mount=target=/x,from=$S x", "RUN");
    expect(() => expandInstruction(bad, lex, {})).toThrow(/does not support variables/);
  });
});

describe("COPY and ADD", () => {
  test("COPY flags, JSON form and heredoc sources", () => {
    const c = one("COPY --from=build --chown=1:2 --chmod=u=rwX,go=rX --link --parents --exclude=*.md --exclude=x <<-EOF a b /d/\n\tcontent\nEOF", "COPY");
    expect(c).toMatchObject({ from: "build", chown: "1:2", chmod: "u=rwX,go=rX", link: true, parents: true, exclude: ["*.md", "x"], sources: ["a", "b"], dest: "/d/" });
    expect(JSON.parse(JSON.stringify(c.sourceContents))).toEqual([{ path: "EOF", data: "content\n", expand: true }]);
    expect(one('COPY ["a b", "/c d/"]', "COPY")).toMatchObject({ sources: ["a b"], dest: "/c d/", json: true, link: false });
  });
  test("ADD flags", () => {
    const a = one("ADD --checksum=sha256:ab --keep-git-dir=true --unpack=false --chmod=644 --link=false https://x/y /y", "ADD");
    expect(a).toMatchObject({ checksum: "sha256:ab", keepGitDir: true, unpack: false, chmod: "644", link: false });
  });
  test("rejects invalid COPY/ADD combinations", () => {
    rejects("COPY --checksum=sha256:x a b", /unknown flag "--checksum"/, /only valid for ADD/);
    rejects("ADD --from=x a b", /unknown flag "--from"/, /COPY --from/);
    rejects("COPY --chmod=999 a b", /invalid chmod/);
    rejects("COPY --chmod=10000 a b", /invalid chmod/);
    rejects("COPY --chmod=abc a b", /invalid chmod/);
    rejects("COPY --from=$X a b", /does not support variables/);
    rejects("COPY a", /at least two arguments/);
    rejects("COPY a <<EOF\nx\nEOF", /heredoc as a destination/);
    rejects("COPY --link=maybe a b", /boolean/);
    rejects("ADD --checksum=sha256:x a b c", /multiple sources/);
  });
  test("expandInstruction() expands sources, dest, chown, chmod, checksum and unquoted heredoc bodies", () => {
    const c = one("COPY --chown=$U --chmod=$M <<A <<'B' $S /d/$D\n$U \"q\"\nA\n$U\nB", "COPY");
    const e = expandInstruction(c, lex, { U: "app", M: "755", S: "src", D: "x" }) as typeof c;
    expect([e.chown, e.chmod, e.sources, e.dest]).toEqual(["app", "755", ["src"], "/d/x"]);
    expect(e.sourceContents.map((s) => s.data.text())).toEqual(['app "q"\n', "$U\n"]);
    expect(() => expandInstruction(c, lex, { M: "9z9" })).toThrow(/invalid chmod/);
    const a = one("ADD --checksum=$C u /d", "ADD");
    expect((expandInstruction(a, lex, { C: "sha256:1" }) as typeof a).checksum).toBe("sha256:1");
  });
});

describe("simple instructions", () => {
  test("ENV, LABEL and ARG keep raw values until expanded", () => {
    const env = one('ENV A=1 B="x $A"', "ENV");
    expect(env.pairs).toEqual([{ key: "A", value: "1" }, { key: "B", value: '"x $A"' }]);
    expect((expandInstruction(env, lex, { A: "0" }) as typeof env).pairs[1]!.value).toBe("x 0");
    expect(one("ENV A b c", "ENV")).toMatchObject({ pairs: [{ key: "A", value: "b c" }], legacy: true });
    expect(one('LABEL "a b"=c', "LABEL").pairs).toEqual([{ key: '"a b"', value: "c" }]);
    const arg = one('ARG A B="x y"', "ARG");
    expect(arg.args).toEqual([{ key: "A" }, { key: "B", value: '"x y"' }]);
    expect((expandInstruction(arg, lex, {}) as typeof arg).args[1]!.value).toBe("x y");
    rejects("ENV =x", /can not be blank/);
    rejects("ARG =x", /ARG names can not be blank/);
    rejects("LABEL", /at least one argument/);
    expect(() => stage("ENV PATH")).toThrow(/two arguments/);
    expect(() => stage("ENV A=1 B")).toThrow(/can't find =/);
  });
  test("WORKDIR, USER, STOPSIGNAL, EXPOSE, VOLUME expand; MAINTAINER does not", () => {
    const vars = { D: "/app", U: "me", S: "TERM", P: "80 81/udp", V: "/v" };
    const pick = (b: string) => expandInstruction(stage(b).instructions[0]!, lex, vars);
    expect(pick("WORKDIR $D/x")).toMatchObject({ path: "/app/x" });
    expect(pick("USER $U:1")).toMatchObject({ user: "me:1" });
    expect(pick("STOPSIGNAL SIG$S")).toMatchObject({ signal: "SIGTERM" });
    expect(pick("EXPOSE $P 443")).toMatchObject({ ports: ["80", "81/udp", "443"] });
    expect(pick('VOLUME ["$V", "/w"]')).toMatchObject({ volumes: ["/v", "/w"] });
    expect(pick("MAINTAINER $U")).toMatchObject({ maintainer: "$U" });
    expect(() => pick('VOLUME ["$NOPE"]')).toThrow(/empty string/);
    rejects("WORKDIR", /exactly one argument/);
    rejects("USER --x=1 a", /unknown flag/, /takes no flags/);
    rejects("EXPOSE", /at least one/);
    rejects("VOLUME", /at least one/);
  });
  test("CMD, ENTRYPOINT and SHELL", () => {
    expect(one('CMD ["a"]', "CMD")).toMatchObject({ command: ["a"], json: true });
    expect(one("ENTRYPOINT a $B", "ENTRYPOINT")).toMatchObject({ command: ["a $B"], json: false });
    const e = expandInstruction(one("CMD echo $X", "CMD"), lex, { X: "1" });
    expect(e).toMatchObject({ command: ["echo $X"] });
    expect(one('SHELL ["/bin/bash", "-c"]', "SHELL").shell).toEqual(["/bin/bash", "-c"]);
    rejects("SHELL /bin/sh -c", /JSON form/);
    rejects("SHELL []", /at least one argument/);
  });
  test("HEALTHCHECK NONE and CMD with every option", () => {
    expect(one("HEALTHCHECK NONE", "HEALTHCHECK").test).toEqual(["NONE"]);
    const h = one('HEALTHCHECK --interval=1m30s --timeout=500ms --start-period=2s --start-interval=1.5s --retries=4 CMD ["curl", "x"]', "HEALTHCHECK");
    expect(h).toMatchObject({ test: ["CMD", "curl", "x"], interval: 90e9, timeout: 5e8, startPeriod: 2e9, startInterval: 1.5e9, retries: 4 });
    expect(one("HEALTHCHECK cmd curl -f x || exit 1", "HEALTHCHECK").test).toEqual(["CMD-SHELL", "curl -f x || exit 1"]);
    rejects("HEALTHCHECK --intervall=1s CMD x", /unknown flag/, /did you mean --interval\?/);
    rejects("HEALTHCHECK CONNECT x", /Unknown type "CONNECT"/);
    rejects("HEALTHCHECK NONE x", /takes no arguments/);
    rejects("HEALTHCHECK CMD", /Missing command/);
    rejects("HEALTHCHECK --interval=1us CMD x", /less than 1ms/);
    rejects("HEALTHCHECK --timeout=soon CMD x", /invalid --timeout/);
    rejects("HEALTHCHECK --retries=-1 CMD x", /negative/);
    rejects("HEALTHCHECK", /requires an argument/);
  });
  test("ONBUILD keeps the trigger text and forbids ONBUILD, FROM and MAINTAINER", () => {
    const o = one("ONBUILD RUN <<E\nhi\nE", "ONBUILD");
    expect(o.trigger).toBe("RUN <<E\nhi\nE");
    expect(o.instruction).toMatchObject({ kind: "RUN", heredocs: [{ name: "E" }] });
    expect(expandInstruction(one("ONBUILD WORKDIR $X", "ONBUILD"), lex, { X: "1" })).toMatchObject({ trigger: "WORKDIR $X" });
    rejects("ONBUILD ONBUILD RUN x", /Chaining ONBUILD/);
    rejects("ONBUILD FROM x", /isn't allowed/);
    rejects("ONBUILD MAINTAINER x", /isn't allowed/);
    rejects("ONBUILD COPY --chekcsum=1 a b", /unknown flag/);
    rejects("ONBUILD", /at least one argument/);
  });
  test("FROM expands image and platform and rejects blank results", () => {
    const f = stage("").from;
    expect(expandInstruction({ ...f, image: "$I", platform: "$P" }, lex, { I: "alpine", P: "linux/arm64" })).toMatchObject({ image: "alpine", platform: "linux/arm64" });
    expect(() => expandInstruction({ ...f, image: "$NOPE" }, lex, {})).toThrow(/should not be blank/);
  });
  test("expandInstruction() reports matched and unmatched names", () => {
    const report = { matched: new Set<string>(), unmatched: new Set<string>() };
    expandInstruction(one("WORKDIR $A/$B", "WORKDIR"), lex, { A: "" }, report);
    expect([[...report.matched], [...report.unmatched]]).toEqual([["A"], ["B"]]);
  });
});

test("`parseGoDuration()` follows Go's time.ParseDuration", () => {
  expect(parseGoDuration("1h2m3.5s")).toBe(3723.5e9);
  expect(parseGoDuration("-1.5h")).toBe(-5400e9);
  expect(parseGoDuration("0")).toBe(0);
  expect(parseGoDuration("10µs")).toBe(10000);
  for (const bad of ["", "1", "s", "1x", ".s", "1.5"]) expect(() => parseGoDuration(bad)).toThrow(/invalid duration/);
});
