// Splits a command line like a POSIX shell would for `shell != "true"`
// (Dkron uses go-shellwords): quotes and backslash escapes, no expansion.
import { invalid } from "../../shared/errors.js";

export function splitShellWords(line: string): string[] {
  const out: string[] = [];
  let cur = "";
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote === "'") {
      if (c === "'") quote = null;
      else cur += c;
    } else if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === "\\" && i + 1 < line.length && '"\\$`'.includes(line[i + 1]!)) cur += line[++i];
      else cur += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === "\\" && i + 1 < line.length) {
      cur += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = "";
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) throw invalid("executor_config.command", `unterminated ${quote} quote`);
  if (inWord) out.push(cur);
  return out;
}

/** Parses Dkron's mem_limit ("512MB", "1G", "1048576") into bytes. */
export function parseByteSize(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?\s*$/i.exec(s);
  if (!m) throw invalid("executor_config.mem_limit", `not a size: ${JSON.stringify(s)} (e.g. 512MB, 1G)`);
  const unit = (m[2] ?? "").toLowerCase().replace(/i?b$/, "");
  const mult = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[unit];
  if (mult === undefined) throw invalid("executor_config.mem_limit", `unknown unit in ${JSON.stringify(s)}`);
  return Math.floor(Number(m[1]) * mult);
}
