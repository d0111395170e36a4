// Logging: events from the engine, reporters for people and machines.
export * from "./events.ts";
export * from "./reporter.ts";
export { printable, printableJson } from "./terminal.ts";
