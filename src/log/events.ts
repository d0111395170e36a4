// Build events: what the engine tells the user. Libraries emit events; only reporters print.

/** One event from a build, a pull or a push. Every event is plain JSON (the `--progress json` line format). */
export type KbEvent =
  | { type: "step-start"; stage: string; stageIndex: number; stageCount: number; step: number; stepCount: number; text: string; line?: number }
  | { type: "step-end"; stage: string; step: number; cached: boolean; ms: number; text: string }
  | { type: "step-output"; stage: string; step: number; stream: "stdout" | "stderr"; text: string }
  | { type: "progress"; id: string; action: "pull" | "push" | "compress" | "extract"; done: number; total?: number; finished?: boolean }
  | { type: "warning"; message: string; line?: number }
  | { type: "info"; message: string }
  | { type: "result"; digest: string; size: number; refs: string[]; ms: number };

/** Where events go. Implementations must not throw. */
export interface EventSink {
  emit(ev: KbEvent): void;
}

/** Sends each event to every sink. */
export function fanOut(...sinks: EventSink[]): EventSink {
  return { emit: (ev) => sinks.forEach((s) => s.emit(ev)) };
}
