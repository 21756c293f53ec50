// The one logger of the server side. JSON lines (pino) to stderr, or to a file.
import pino, { type Logger } from "pino";

export type { Logger };

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function createLogger(opts: { level?: LogLevel; name?: string; file?: string } = {}): Logger {
  const dest = opts.file ? pino.destination({ dest: opts.file, mkdir: true, sync: false }) : pino.destination(2);
  return pino({ level: opts.level ?? "info", base: opts.name ? { node: opts.name } : undefined }, dest);
}

/** A logger that drops everything; for unit tests of modules that take one. */
export const silentLogger = (): Logger => pino({ level: "silent" });
