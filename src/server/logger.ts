// The one logger of the server side. JSON lines (pino) to stderr, or to a file.
import pino, { type Logger } from "pino";

export type { Logger };

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function createLogger(opts: { level?: LogLevel; name?: string; file?: string } = {}): Logger {
  // Synchronous writes: what a node said just before a kill -9 is what one needs to read afterwards.
  const dest = opts.file ? pino.destination({ dest: opts.file, mkdir: true, sync: true }) : pino.destination({ dest: 2, sync: true });
  return pino({ level: opts.level ?? "info", base: opts.name ? { node: opts.name } : undefined }, dest);
}

/** A logger that drops everything; for unit tests of modules that take one. */
export const silentLogger = (): Logger => pino({ level: "silent" });
