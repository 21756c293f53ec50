// Argument parsers for commander options. They throw InvalidArgumentError, which
// commander reports as a usage error (exit 2) naming the flag.
import { InvalidArgumentError } from "commander";

export function splitKeyValue(raw: string): [string, string] {
  const i = raw.indexOf("=");
  if (i <= 0) throw new InvalidArgumentError("expected key=value");
  return [raw.slice(0, i).trim(), raw.slice(i + 1)];
}

/** Repeatable `k=v`, validated, kept as raw strings (agent options). */
export function collectKeyValue(raw: string, prev: string[] = []): string[] {
  splitKeyValue(raw);
  return [...prev, raw];
}

/** Repeatable `k=v` into a map; later keys win. */
export function collectMap(raw: string, prev: Record<string, string> = {}): Record<string, string> {
  const [k, v] = splitKeyValue(raw);
  return { ...prev, [k]: v };
}

export function collect(raw: string, prev: string[] = []): string[] {
  return [...prev, raw];
}

export function nonNegativeInt(raw: string): number {
  if (!/^\d+$/.test(raw.trim())) throw new InvalidArgumentError("expected a non-negative integer");
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError("too large");
  return n;
}

export function positiveInt(raw: string): number {
  const n = nonNegativeInt(raw);
  if (n === 0) throw new InvalidArgumentError("expected a positive integer");
  return n;
}

/** Comma list from an environment variable: `a, b,,c` → [a, b, c]. */
export const splitList = (raw: string | undefined): string[] =>
  (raw ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
