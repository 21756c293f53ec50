// The `/` filter: space-separated terms, all of which must match.
//   word          name, display name, a tag or metadata key/value, the status, or
//                 one of the words disabled / enabled / running
//   k=v           tag (or metadata) k whose value starts with v
//   status:x      status starting with x (success, failed, partially_failed, untriggered)
//   name:x        name or display name containing x
//   tag:k[=v]     tag k (with a value starting with v)
import type { Job } from "../../shared/job.js";

export type Term =
  | { kind: "word"; text: string }
  | { kind: "pair"; key: string; value: string }
  | { kind: "status"; text: string }
  | { kind: "name"; text: string }
  | { kind: "tag"; key: string; value?: string };

export function parseFilter(text: string): Term[] {
  const terms: Term[] = [];
  for (const raw of text.toLowerCase().split(/\s+/)) {
    if (!raw) continue;
    const colon = raw.indexOf(":");
    const prefix = colon > 0 ? raw.slice(0, colon) : "";
    const rest = raw.slice(colon + 1);
    if (prefix === "status" || prefix === "is") terms.push({ kind: "status", text: rest });
    else if (prefix === "name") terms.push({ kind: "name", text: rest });
    else if (prefix === "tag") {
      const eq = rest.indexOf("=");
      terms.push(eq < 0 ? { kind: "tag", key: rest } : { kind: "tag", key: rest.slice(0, eq), value: rest.slice(eq + 1) });
    } else if (raw.includes("=") && raw.indexOf("=") > 0) {
      const eq = raw.indexOf("=");
      terms.push({ kind: "pair", key: raw.slice(0, eq), value: raw.slice(eq + 1) });
    } else terms.push({ kind: "word", text: raw });
  }
  return terms;
}

export const statusText = (j: Job): string => j.status || "untriggered";

const lower = (m: Record<string, string> | null | undefined): Array<[string, string]> =>
  Object.entries(m ?? {}).map(([k, v]) => [k.toLowerCase(), String(v).toLowerCase()]);

/** Words that describe state rather than text. */
function stateWord(j: Job, word: string, running: number): boolean {
  if (word === "disabled") return j.disabled;
  if (word === "enabled") return !j.disabled;
  if (word === "running") return running > 0;
  return false;
}

export function matches(j: Job, terms: readonly Term[], running = 0): boolean {
  if (terms.length === 0) return true;
  const name = j.name.toLowerCase();
  const display = (j.displayname ?? "").toLowerCase();
  const tags = lower(j.tags);
  const both = [...tags, ...lower(j.metadata)];
  const status = statusText(j);
  return terms.every((t) => {
    switch (t.kind) {
      case "word":
        return (
          name.includes(t.text) ||
          display.includes(t.text) ||
          status === t.text ||
          stateWord(j, t.text, running) ||
          both.some(([k, v]) => k.includes(t.text) || v.includes(t.text))
        );
      case "name":
        return name.includes(t.text) || display.includes(t.text);
      case "status":
        return status.startsWith(t.text) || stateWord(j, t.text, running);
      case "pair":
        return both.some(([k, v]) => k === t.key && v.startsWith(t.value));
      case "tag":
        return tags.some(([k, v]) => k === t.key && (t.value === undefined || v.startsWith(t.value)));
    }
  });
}
