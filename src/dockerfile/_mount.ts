// RUN --mount=… option parsing (BuildKit instructions/commands_runmount.go parseMount).

import { KbError } from "../errors.ts";
import type { Mount } from "./instruction-types.ts";
import { suggest } from "../suggest.ts";

const TYPES = ["bind", "cache", "tmpfs", "secret", "ssh"] as const;

function mountError(message: string, hint: string): KbError {
  return new KbError("DOCKERFILE_INSTRUCTION", `Cannot parse RUN --mount: ${message}`, { hint });
}

/** Go encoding/csv for one record: commas separate fields, `"…"` quotes a field, `""` is a quote inside one. */
export function splitCsv(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    let field = "";
    if (s[i] === '"') {
      i++;
      for (;;) {
        if (i >= s.length) throw mountError(`unterminated quote in "${s}"`, 'close the " quote');
        if (s[i] === '"') {
          if (s[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += s[i++];
      }
      if (i < s.length && s[i] !== ",") throw mountError(`extraneous text after quote in "${s}"`, "quote the whole field");
    } else {
      const end = s.indexOf(",", i);
      field = end < 0 ? s.slice(i) : s.slice(i, end);
      i = end < 0 ? s.length : end;
    }
    out.push(field);
    if (i >= s.length) return out;
    i++;
  }
}

function parseBool(key: string, v: string): boolean {
  const t = ["1", "t", "T", "TRUE", "true", "True"], f = ["0", "f", "F", "FALSE", "false", "False"];
  if (t.includes(v)) return true;
  if (f.includes(v)) return false;
  throw mountError(`invalid value "${v}" for "${key}"`, `write ${key}=true or ${key}=false`);
}

function parseUint(key: string, v: string, radix: 8 | 10): number | undefined {
  if (v.includes("$")) return undefined;
  const ok = radix === 8 ? /^(0o?)?[0-7]+$/i.test(v) : /^\d+$/.test(v);
  const n = ok ? Number.parseInt(v.replace(/^0o/i, ""), radix) : NaN;
  if (!ok || n > 0xffffffff) throw mountError(`invalid ${key} "${v}"`, radix === 8 ? `write an octal mode such as ${key}=0755` : `write a number such as ${key}=1000`);
  return n;
}

/** go-units RAMInBytes: "64m", "1.5GiB", "1024" (binary multiples). */
export function parseRamBytes(v: string): number {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(v);
  if (!m) throw mountError(`invalid size "${v}"`, "write a size such as size=64m");
  const mult = { "": 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 }[(m[2] ?? "").toLowerCase()]!;
  return Math.floor(Number(m[1]) * mult);
}

/** Parses one --mount value. `expand` (if given) is applied to every value except `from`. */
export function parseMount(raw: string, expand?: (v: string) => string): Mount {
  const m: Mount = { type: "bind", raw, readOnly: true, required: false };
  let roAuto = true;
  const fileInfo: string[] = [];
  for (const field of splitCsv(raw)) {
    const eq = field.indexOf("=");
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    if (eq < 0) {
      if (key === "readonly" || key === "ro" || key === "readwrite" || key === "rw") {
        m.readOnly = key === "readonly" || key === "ro";
        roAuto = false;
      } else if (key === "required") {
        if (m.type !== "secret" && m.type !== "ssh") throw mountError(`unexpected key "required" for mount type "${m.type}"`, "required is only for type=secret or type=ssh");
        m.required = true;
      } else throw mountError(`invalid field "${field}" must be a key=value pair`, `write ${field}=<value>`);
      continue;
    }
    let value = field.slice(eq + 1);
    if (expand && key !== "from") value = expand(value);
    switch (key) {
      case "type": {
        const t = value.toLowerCase();
        if (!(TYPES as readonly string[]).includes(t)) {
          const near = suggest(t, TYPES);
          throw mountError(`unsupported mount type "${value}"`, near ? `did you mean type=${near}?` : `use one of ${TYPES.join(", ")}`);
        }
        m.type = t as Mount["type"];
        break;
      }
      case "from": m.from = value; break;
      case "source": case "src": m.source = value; break;
      case "target": case "dst": case "destination": m.target = value; break;
      case "readonly": case "ro": if (!value.includes("$")) m.readOnly = parseBool(key, value); roAuto = false; break;
      case "readwrite": case "rw": if (!value.includes("$")) m.readOnly = !parseBool(key, value); roAuto = false; break;
      case "required":
        if (m.type !== "secret" && m.type !== "ssh") throw mountError(`unexpected key "required" for mount type "${m.type}"`, "required is only for type=secret or type=ssh");
        if (!value.includes("$")) m.required = parseBool(key, value);
        break;
      case "id": m.id = value; break;
      case "sharing":
        if (m.type !== "cache") throw mountError(`invalid cache sharing set for ${m.type} mount`, "sharing is only for type=cache");
        if (!value.includes("$") && !["shared", "private", "locked"].includes(value.toLowerCase())) {
          throw mountError(`unrecognized sharing mode "${value}"`, "use sharing=shared, private or locked");
        }
        m.sharing = value.toLowerCase() as Mount["sharing"];
        break;
      case "mode": m.mode = parseUint(key, value, 8); fileInfo.push(key); break;
      case "uid": m.uid = parseUint(key, value, 10); fileInfo.push(key); break;
      case "gid": m.gid = parseUint(key, value, 10); fileInfo.push(key); break;
      case "env": if (m.type === "secret") m.env = value; break;
      case "size":
        if (m.type !== "tmpfs") throw mountError(`unexpected key "size" for mount type "${m.type}"`, "size is only for type=tmpfs");
        if (!value.includes("$")) m.size = parseRamBytes(value);
        break;
      default: {
        const near = suggest(key, ["type", "from", "source", "target", "readonly", "readwrite", "required", "id", "sharing", "mode", "uid", "gid", "env", "size"]);
        throw mountError(`unexpected key "${key}" in "${field}"`, near ? `did you mean ${near}?` : "see the RUN --mount reference");
      }
    }
  }
  return finishMount(m, roAuto, fileInfo);
}

function finishMount(m: Mount, roAuto: boolean, fileInfo: string[]): Mount {
  if (fileInfo.length > 0 && m.type !== "secret" && m.type !== "ssh" && m.type !== "cache") {
    throw mountError(`${fileInfo[0]} not allowed for "${m.type}" type mounts`, "mode, uid and gid are only for cache, secret and ssh mounts");
  }
  if (roAuto) m.readOnly = m.type !== "cache" && m.type !== "tmpfs";
  if (m.type === "secret") {
    if (m.from !== undefined) throw mountError("secret mount should not have a from", "remove from= from the secret mount");
    if (m.source !== undefined) {
      if (m.id !== undefined) throw mountError("both source and id can't be set", "give the secret id once (id= or source=)");
      m.id = m.source;
      delete m.source;
    }
    if (m.id === undefined && m.target === undefined && m.env === undefined) {
      throw mountError("secret mount needs an id, a source or a target", "write --mount=type=secret,id=<id>");
    }
  }
  if (m.type === "ssh" && m.source !== undefined) throw mountError("ssh mount should not have a source", "remove source= from the ssh mount");
  if ((m.type === "bind" || m.type === "cache" || m.type === "tmpfs") && !m.target) {
    throw mountError(`mount type "${m.type}" requires a target`, `add target=<path>, e.g. --mount=type=${m.type},target=/path`);
  }
  if (m.target === "/" ) throw mountError('target "/" is not allowed', "mount on a sub-directory");
  return m;
}
