// The payload templates of Dkron's notifications (dkron/notifier.go): Go text/template with the
// fields below. Only field substitution is implemented — `{{.Field}}`, `{{ .Field }}`, and the
// trim markers `{{- ` / ` -}}`; anything else (unknown fields, if/range, other functions) is left
// as-is. One addition: `{{json .Field}}` (or `{{.Field | json}}`) writes the value as a quoted
// JSON string, because Go's templates do not escape and an output with a quote or a newline
// otherwise breaks a JSON payload (a known Dkron pain with {{.Report}} in Slack payloads).
import type { ExecutionRecord } from "../../shared/execution.js";
import { toRfc3339OrZero } from "../../shared/time.js";

export interface TemplateData {
  Report: string;
  JobName: string;
  ReportingNode: string;
  StartTime: string;
  FinishedAt: string;
  /** "true" or "false", as Dkron formats it. */
  Success: string;
  NodeName: string;
  Output: string;
}

const ACTION = /\{\{(-\s)?\s*(json\s+)?\.([A-Za-z_]\w*)(\s*\|\s*json)?\s*(\s-)?\}\}/g;

export function renderTemplate(template: string, data: TemplateData): string {
  const fields = data as unknown as Record<string, string>;
  let out = "";
  let last = 0;
  let trimNext = false;
  for (const m of template.matchAll(ACTION)) {
    let text = template.slice(last, m.index);
    if (trimNext) text = text.trimStart();
    last = m.index + m[0].length;
    const key = m[3]!;
    // `json .F | json` would be Go's json applied twice; not worth supporting.
    if (!Object.hasOwn(fields, key) || (m[2] && m[4])) {
      out += text + m[0];
      trimNext = false;
      continue;
    }
    if (m[1]) text = text.trimEnd();
    out += text + (m[2] || m[4] ? JSON.stringify(fields[key]) : fields[key]);
    trimNext = m[5] !== undefined;
  }
  const rest = template.slice(last);
  return out + (trimNext ? rest.trimStart() : rest);
}

/** Instants as the API shows them: RFC 3339 in UTC, Go's zero time when unset. */
const time = toRfc3339OrZero;

/** Dkron's `.Report`: the execution, then one line per execution of its group. */
export function report(ex: ExecutionRecord, group: readonly ExecutionRecord[], reportingNode: string): string {
  const lines = group
    .map((g) => `\t[Node]: ${g.node_name} [Start]: ${time(g.started_at)} [End]: ${time(g.finished_at)} [Success]: ${g.success}\n`)
    .join("");
  return (
    `Executed: ${ex.job_name}\nReporting node: ${reportingNode}\nStart time: ${time(ex.started_at)}\n` +
    `End time: ${time(ex.finished_at)}\nSuccess: ${ex.success}\nNode: ${ex.node_name}\nOutput: ${ex.output}\n` +
    `Execution group: ${BigInt(Math.round(ex.group_ms)) * 1_000_000n}\n${lines}`
  );
}

export function templateData(ex: ExecutionRecord, group: readonly ExecutionRecord[], reportingNode: string): TemplateData {
  return {
    Report: report(ex, group, reportingNode),
    JobName: ex.job_name,
    ReportingNode: reportingNode,
    StartTime: time(ex.started_at),
    FinishedAt: time(ex.finished_at),
    Success: String(ex.success),
    NodeName: ex.node_name,
    Output: ex.output,
  };
}
