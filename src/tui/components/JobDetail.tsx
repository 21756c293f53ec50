// The selected job: its definition and dependencies on the left, its recent
// executions on the right (below, when narrow). Tab focuses the executions.
import { Box, Text } from "ink";
import type { Execution } from "../../shared/execution.js";
import type { Job } from "../../shared/job.js";
import { executionDuration, executionStatus, executionWhen, fit, nextText, rule, scheduleText, statusMark, tagsText } from "../format.js";
import { dependencyTree } from "../state/select.js";
import { scrollFor } from "../state/layout.js";
import { toneProps, useTheme, type Tone } from "../theme.js";

export interface JobDetailProps {
  job?: Job;
  jobs: ReadonlyMap<string, Job>;
  executions: readonly Execution[];
  cursor: number;
  focused: boolean;
  width: number;
  height: number;
  now: number;
  running: number;
}

type Line = { key: string; value: string; tone?: Tone };

export function definitionLines(job: Job, jobs: ReadonlyMap<string, Job>, now: number, running: number): Line[] {
  const cfg = job.executor_config ?? {};
  const { command, ...rest } = cfg;
  const exec = [job.executor || "shell", command ? `: ${command}` : "", Object.keys(rest).length ? ` (${tagsText(rest)})` : ""].join("");
  const mark = statusMark(job.status);
  const lines: Line[] = [
    { key: "schedule", value: `${scheduleText(job) || "—"}${job.timezone ? ` (${job.timezone})` : ""}` },
    { key: "next", value: nextText(job, now) },
    {
      key: "status",
      value: `${mark.mark} ${job.status || "untriggered"} (${job.success_count ?? 0} ok, ${job.error_count ?? 0} failed)`,
      tone: mark.tone,
    },
    {
      key: "state",
      value: `${job.disabled ? "disabled" : "enabled"}${running ? ` · ${running} running` : ""}`,
      ...(job.disabled ? { tone: "warn" as const } : {}),
    },
    { key: "executor", value: exec },
  ];
  if (job.displayname) lines.unshift({ key: "display", value: job.displayname });
  if (Object.keys(job.tags ?? {}).length) lines.push({ key: "tags", value: tagsText(job.tags) });
  const backoff = job.retries && job.retry_backoff ? ` (${job.retry_backoff.initial}..${job.retry_backoff.max})` : "";
  lines.push({ key: "options", value: `retries ${job.retries ?? 0}${backoff} · concurrency ${job.concurrency || "allow"}` });
  if (job.owner || job.owner_email) {
    lines.push({ key: "owner", value: [job.owner, job.owner_email && `<${job.owner_email}>`].filter(Boolean).join(" ") });
  }
  dependencyTree(jobs, job).forEach((value, i) => lines.push({ key: i === 0 ? "deps" : "", value, tone: "accent" }));
  return lines;
}

function Definition({ lines, width, height }: { lines: Line[]; width: number; height: number }) {
  const theme = useTheme();
  return (
    <Box flexDirection="column" width={width} height={height}>
      {lines.slice(0, height).map((l, i) => (
        <Text key={i} wrap="truncate">
          <Text dimColor>{fit(l.key, 8)}</Text> <Text {...(l.tone ? toneProps(theme, l.tone) : {})}>{fit(l.value, width - 9)}</Text>
        </Text>
      ))}
    </Box>
  );
}

/** Why it ended, or the last line it printed. */
function note(e: Execution): string {
  if (e.reason) return e.reason;
  const lines = e.output.split("\n").filter((l) => l.trim());
  return lines.length ? lines[lines.length - 1]!.trim() : "";
}

function Executions(p: { executions: readonly Execution[]; cursor: number; focused: boolean; width: number; height: number; now: number }) {
  const theme = useTheme();
  const rows = Math.max(0, p.height - 1);
  const scroll = scrollFor(p.cursor, 0, rows, p.executions.length);
  const longest = Math.max(4, ...p.executions.map((e) => [...e.node_name].length));
  // marker 2, status 11, when 9, duration 7, node, note; one space between.
  const nodeW = Math.max(4, Math.min(longest, 14, p.width - 2 - 11 - 9 - 7 - 4));
  const noteW = p.width - 2 - 11 - 9 - 7 - nodeW - 4;
  const title = `Executions (${p.executions.length}${p.executions.length >= 30 ? "+" : ""})${p.focused ? " · Enter: output" : ""}`;
  return (
    <Box flexDirection="column" width={p.width} height={p.height}>
      <Text wrap="truncate" bold={p.focused} dimColor={!p.focused}>{fit(title, p.width)}</Text>
      {p.executions.length === 0 ? <Text dimColor>  no executions yet (r runs the job now)</Text> : null}
      {p.executions.slice(scroll, scroll + rows).map((e, i) => {
        const st = executionStatus(e);
        const selected = scroll + i === p.cursor;
        return (
          <Text key={e.id} wrap="truncate" inverse={selected && p.focused}>
            {selected && p.focused ? "› " : "  "}
            <Text {...toneProps(theme, st.tone)}>{fit(`${st.mark} ${st.text}`, 11)}</Text> {fit(executionWhen(e, p.now), 9)}{" "}
            {fit(executionDuration(e, p.now), 7, "right")} {fit(e.node_name, nodeW)}
            {noteW >= 6 ? <Text dimColor> {fit(note(e), noteW)}</Text> : null}
          </Text>
        );
      })}
    </Box>
  );
}

export function JobDetail(p: JobDetailProps) {
  const lines = Math.max(0, p.height - 1);
  const title = p.job ? `${p.job.name}${p.focused ? "" : " · Tab: executions"}` : "";
  if (!p.job) {
    return (
      <Box flexDirection="column" width={p.width} height={p.height}>
        <Text dimColor wrap="truncate">{rule("", p.width)}</Text>
        <Text dimColor>  select a job to see its definition and executions</Text>
      </Box>
    );
  }
  const def = definitionLines(p.job, p.jobs, p.now, p.running);
  const side = p.width >= 70;
  const leftW = side ? Math.floor((p.width - 1) / 2) : p.width;
  const rightW = side ? p.width - leftW - 1 : p.width;
  const defH = side ? lines : Math.min(def.length, Math.ceil(lines / 2));
  const execH = side ? lines : lines - defH;
  return (
    <Box flexDirection="column" width={p.width} height={p.height}>
      <Text wrap="truncate" bold>{rule(title, p.width)}</Text>
      <Box flexDirection={side ? "row" : "column"} height={lines}>
        <Definition lines={def} width={leftW} height={defH} />
        {side ? (
          <Box width={1} height={lines} flexDirection="column">
            {Array.from({ length: lines }, (_, i) => <Text key={i} dimColor>│</Text>)}
          </Box>
        ) : null}
        <Executions executions={p.executions} cursor={p.cursor} focused={p.focused} width={rightW} height={execH} now={p.now} />
      </Box>
    </Box>
  );
}
