// Terminal output primitives: ANSI styles (only on a TTY without NO_COLOR),
// aligned tables, key/value blocks, relative times and durations. All pure.

const ANSI_RE = /\x1b\[[0-9;]*m/g;

export interface Style {
  readonly enabled: boolean;
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
}

const wrap = (on: boolean, open: number, close: number) => (s: string) =>
  on && s ? `\x1b[${open}m${s}\x1b[${close}m` : s;

export function makeStyle(enabled: boolean): Style {
  return {
    enabled,
    bold: wrap(enabled, 1, 22),
    dim: wrap(enabled, 2, 22),
    red: wrap(enabled, 31, 39),
    green: wrap(enabled, 32, 39),
    yellow: wrap(enabled, 33, 39),
    cyan: wrap(enabled, 36, 39),
  };
}

/** https://no-color.org: any non-empty NO_COLOR disables colour; so does a non-TTY stdout. */
export const colorEnabled = (isTTY: boolean | undefined, env: Record<string, string | undefined>): boolean =>
  isTTY === true && !env.NO_COLOR && env.TERM !== "dumb";

export const stripAnsi = (s: string): string => s.replace(ANSI_RE, "");

/** Visible width in code points (ANSI escapes excluded). */
export const visibleLength = (s: string): number => [...stripAnsi(s)].length;

export function truncate(s: string, max: number): string {
  const chars = [...s];
  if (chars.length <= max) return s;
  if (max <= 1) return "…".slice(0, max);
  return `${chars.slice(0, max - 1).join("")}…`;
}

/** Keeps the end of the text (useful for output tails). */
export function truncateStart(s: string, max: number): string {
  const chars = [...s];
  if (chars.length <= max) return s;
  if (max <= 1) return "…".slice(0, max);
  return `…${chars.slice(chars.length - (max - 1)).join("")}`;
}

export interface Column<T> {
  header: string;
  get(row: T): string;
  /** Longer cells are cut with "…". Default 48; 0 means never cut. */
  max?: number;
  align?: "left" | "right";
  /** Applied after truncation and padding, so it never disturbs alignment. */
  color?(row: T, text: string): string;
}

const DEFAULT_MAX = 48;
const GAP = "  ";

export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[], style: Style = makeStyle(false)): string {
  const cells = rows.map((row) =>
    columns.map((c) => {
      const text = c.get(row).replace(/[\r\n\t]+/g, " ");
      const max = c.max ?? DEFAULT_MAX;
      return max > 0 ? truncate(text, max) : text;
    }),
  );
  const widths = columns.map((c, i) => Math.max(visibleLength(c.header), ...cells.map((r) => visibleLength(r[i]!))));
  const lastIdx = columns.length - 1;
  // `shown` may carry colour; `text` is what it looks like, which decides the padding.
  const pad = (text: string, shown: string, i: number): string => {
    const fill = " ".repeat(widths[i]! - visibleLength(text));
    if (columns[i]!.align === "right") return fill + shown;
    return i === lastIdx ? shown : shown + fill;
  };
  const header = columns.map((c, i) => pad(c.header, style.bold(c.header), i)).join(GAP);
  const body = cells.map((r, ri) =>
    r
      .map((text, i) => {
        const color = columns[i]!.color;
        return pad(text, color && style.enabled ? color(rows[ri]!, text) : text, i);
      })
      .join(GAP)
      .trimEnd(),
  );
  return [header.trimEnd(), ...body].join("\n") + "\n";
}

/** `key  value` lines with keys aligned; multi-line values are indented under the value column. */
export function renderKeyValues(pairs: ReadonlyArray<readonly [string, string]>, style: Style = makeStyle(false)): string {
  const width = Math.max(0, ...pairs.map(([k]) => visibleLength(k)));
  return pairs
    .map(([k, v]) => {
      const lines = v.split("\n");
      const indent = " ".repeat(width + 2);
      const key = style.dim(k.padEnd(width));
      return [`${key}  ${lines[0]}`.trimEnd(), ...lines.slice(1).map((l) => `${indent}${l}`.trimEnd())].join("\n");
    })
    .join("\n") + "\n";
}

const UNITS: ReadonlyArray<readonly [number, string]> = [
  [86_400_000, "d"],
  [3_600_000, "h"],
  [60_000, "m"],
  [1000, "s"],
];

function coarse(ms: number): string {
  // Days only past 48h, so "36h" stays readable.
  for (const [size, unit] of UNITS) {
    if (unit === "d" && ms < 2 * 86_400_000) continue;
    if (ms >= size) return `${Math.floor(ms / size)}${unit}`;
  }
  return "0s";
}

/** "in 5s", "3m ago", "now", or "never" for null. */
export function relativeTime(ms: number | null, now: number): string {
  if (ms === null || Number.isNaN(ms)) return "never";
  const diff = ms - now;
  if (Math.abs(diff) < 1000) return "now";
  return diff > 0 ? `in ${coarse(diff)}` : `${coarse(-diff)} ago`;
}

/** "850ms", "1.2s", "3m4s", "2h3m", "3d4h". */
export function formatDuration(ms: number): string {
  if (ms < 0 || Number.isNaN(ms)) return "-";
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 10_000) return `${(Math.floor(ms / 100) / 10).toFixed(1)}s`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60 ? `${s % 60}s` : ""}`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${m % 60 ? `${m % 60}m` : ""}`;
  const d = Math.floor(h / 24);
  return `${d}d${h % 24 ? `${h % 24}h` : ""}`;
}

export const formatMap = (m: Record<string, string> | null | undefined): string =>
  Object.entries(m ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(",");

export const toJsonText = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;
