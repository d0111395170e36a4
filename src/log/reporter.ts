// Reporters: turn build events into step lines (plain), JSON lines (machines), or nothing (quiet).

import { printable, printableJson } from "./terminal.ts";
import { createConsola as createFancy, type ConsolaInstance } from "consola";
import { createConsola as createBasic } from "consola/basic";
import type { EventSink, KbEvent } from "./events.ts";

export type ProgressMode = "auto" | "plain" | "json" | "quiet";

export interface ReporterOptions {
  mode: ProgressMode;
  /** Where lines go (default process.stderr). */
  write?: (text: string) => void;
  /** Whether the output is a terminal (default: process.stderr.isTTY). */
  tty?: boolean;
  /** Print timestamps before each line (Kaniko's --log-timestamp). */
  timestamps?: boolean;
  /** 0 = errors only, 3 = info (default), 4+ = debug. */
  level?: number;
}

function fmtBytes(n: number): string {
  const u = ["B", "kB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1000 && i < u.length - 1) (n /= 1000), i++;
  return `${n.toFixed(i === 0 ? 0 : 1)} ${u[i]}`;
}

/** Formats a duration in ms as "0.4s" / "12.3s" / "2m03s". */
export function fmtMs(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const m = Math.floor(ms / 60_000);
  return `${m}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, "0")}s`;
}

/** Creates the reporter the CLI uses; the build engine only sees an EventSink. */
export function createReporter(opts: ReporterOptions): EventSink & { logger: ConsolaInstance } {
  const write = opts.write ?? ((t: string) => void process.stderr.write(t));
  const tty = opts.tty ?? Boolean(process.stderr.isTTY);
  // consola formats warnings, notices and debug lines (icons and colours on a terminal); everything goes to `write`.
  const sink = { write: (t: string) => (write(t), true) } as unknown as NodeJS.WriteStream;
  const logger = (tty ? createFancy : createBasic)({
    level: opts.level ?? 3,
    stdout: sink,
    stderr: sink,
    formatOptions: { date: Boolean(opts.timestamps), colors: tty, compact: true },
  });
  const stamp = () => (opts.timestamps ? `${new Date().toISOString()} ` : "");
  const lastProgress = new Map<string, number>();
  const firstSeen = new Map<string, number>();
  const level = opts.level ?? 3;

  const partial = new Map<string, string>();
  /** Writes what is left of a step's unfinished output lines (all steps' with no `stage`). */
  const flush = (stage?: string, step?: number) => {
    for (const [key, rest] of partial) {
      const [s, n] = key.split("\0");
      if (stage !== undefined && (s !== stage || Number(n) !== step)) continue;
      write(`${rest}\n`);
      partial.delete(key);
    }
  };

  const plain = (ev: KbEvent) => {
    if (ev.type === "step-end") flush(ev.stage, ev.step);
    else if (partial.size && ev.type !== "step-output" && ev.type !== "progress") flush();
    switch (ev.type) {
      case "step-start": {
        const st = ev.stageCount > 1 ? `[${ev.stage} ${ev.stageIndex + 1}/${ev.stageCount}] ` : "";
        write(`${stamp()}${printable(`${st}[${ev.step}/${ev.stepCount}] ${ev.text}`)}\n`);
        return;
      }
      case "step-end":
        if (ev.cached) write(`${stamp()}  CACHED ${printable(ev.text)}\n`);
        else if (level >= 3 && ev.ms >= 100) write(`${stamp()}  done in ${fmtMs(ev.ms)}\n`);
        return;
      case "step-output": {
        if (level < 3) return;
        // A RUN's output arrives in pipe-sized chunks that may end mid-line: print whole lines only, and keep
        // the rest until its newline (or the step's end).
        const key = `${ev.stage}\0${ev.step}\0${ev.stream}`;
        const text = (partial.get(key) ?? "") + ev.text;
        const cut = text.lastIndexOf("\n") + 1;
        if (cut > 0) write(text.slice(0, cut));
        if (cut < text.length) partial.set(key, text.slice(cut));
        else partial.delete(key);
        return;
      }
      case "progress": {
        if (level < 3) return;
        const now = Date.now();
        if (!firstSeen.has(ev.id)) firstSeen.set(ev.id, now);
        const last = lastProgress.get(ev.id) ?? 0;
        if (!ev.finished && now - last < (tty ? 200 : 5000)) return;
        lastProgress.set(ev.id, now);
        const total = ev.total ? `/${fmtBytes(ev.total)}` : "";
        const secs = (now - firstSeen.get(ev.id)!) / 1000;
        const speed = secs > 0.05 ? ` ${fmtBytes(ev.done / secs)}/s` : "";
        write(`${stamp()}  ${ev.action} ${printable(ev.id.slice(0, 19))} ${fmtBytes(ev.done)}${total}${speed}${ev.finished ? " done" : ""}\n`);
        if (ev.finished) (firstSeen.delete(ev.id), lastProgress.delete(ev.id));
        return;
      }
      case "warning":
        logger.warn(printable(`${ev.line ? `Dockerfile:${ev.line}: ` : ""}${ev.message}`));
        return;
      case "info":
        logger.info(printable(ev.message));
        return;
      case "result":
        write(`${stamp()}image ${ev.digest} (${fmtBytes(ev.size)}) in ${fmtMs(ev.ms)}${ev.refs.length ? ` → ${printable(ev.refs.join(", "))}` : ""}\n`);
        return;
    }
  };
  const json = (ev: KbEvent) => write(`${printableJson({ time: new Date().toISOString(), ...ev })}\n`);
  const quiet = (ev: KbEvent) => {
    if (ev.type === "warning") plain(ev);
  };
  const emit = opts.mode === "json" ? json : opts.mode === "quiet" ? quiet : plain;
  return {
    logger,
    emit(ev) {
      try {
        emit(ev);
      } catch {
        // a reporter never breaks a build
      }
    },
  };
}
