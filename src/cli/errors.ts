// Error → exit code, in one place. 0 ok, 1 the server said no, 2 usage, 3 unreachable.
import { CommanderError } from "commander";
import { DkronError } from "../shared/errors.js";

export const EXIT = { ok: 0, refused: 1, usage: 2, unreachable: 3 } as const;

/** A bad command line that commander itself cannot see (flag values checked after parsing). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export function exitCodeFor(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (err instanceof UsageError) return EXIT.usage;
  if (err instanceof DkronError) return err.code === "unreachable" ? EXIT.unreachable : EXIT.refused;
  return EXIT.refused;
}

/** One line, no "error:" prefix: stderr gets `dkron: <this>`. */
export function errorLine(err: unknown): string {
  let msg: string;
  if (err instanceof CommanderError) msg = err.message.replace(/^error:\s*/i, "");
  else if (err instanceof Error) msg = err.message || err.name;
  else msg = String(err);
  if (err instanceof DkronError && err.code === "unauthorized") msg += " (set --token or DKRON_API_TOKEN)";
  return msg.replace(/\s*\n\s*/g, " ").trim();
}
