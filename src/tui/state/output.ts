// An execution's output as screen lines: control characters made visible,
// long lines wrapped at the width. Pure; memoised on the last input.

/** Most output kept in memory per execution view (the tail). */
export const OUTPUT_KEEP = 1_000_000;

const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]/g;

function clean(line: string): string {
  // Tabs to spaces, carriage-return progress bars keep their last state, other controls shown as '?'.
  const afterCr = line.slice(line.lastIndexOf("\r") + 1);
  return afterCr.replace(ANSI, "").replace(/\t/g, "    ").replace(/[\x00-\x1f\x7f]/g, "?");
}

let memo: { text: string; width: number; out: string[] } | undefined;

export function outputLines(text: string, width: number): string[] {
  if (memo && memo.text === text && memo.width === width) return memo.out;
  const w = Math.max(1, width);
  const out: string[] = [];
  const lines = text.split("\n");
  if (lines.length > 1 && lines[lines.length - 1] === "") lines.pop();
  for (const raw of lines) {
    const chars = [...clean(raw.endsWith("\r") ? raw.slice(0, -1) : raw)];
    if (chars.length === 0) out.push("");
    for (let i = 0; i < chars.length; i += w) out.push(chars.slice(i, i + w).join(""));
  }
  if (text === "") out.length = 0;
  memo = { text, width, out };
  return out;
}

export const appendOutput = (prev: string, chunk: string): string => {
  const next = prev + chunk;
  return next.length > OUTPUT_KEEP ? next.slice(next.length - OUTPUT_KEEP) : next;
};
