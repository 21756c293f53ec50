// The jobs table. Virtualised: only the rows in the window are rendered, so
// 1,000 jobs cost what 20 do.
import { Box, Text } from "ink";
import { memo } from "react";
import type { Job } from "../../shared/job.js";
import { jobCells, jobColumns, jobHeader, rule, type JobColumns } from "../format.js";
import type { SortKey } from "../state/types.js";
import { toneProps, useTheme } from "../theme.js";

export interface JobsTableProps {
  jobs: readonly Job[];
  total: number;
  cursor: number;
  scroll: number;
  rows: number;
  width: number;
  now: number;
  running: Readonly<Record<string, readonly string[]>>;
  focused: boolean;
  sort: { key: SortKey; desc: boolean };
  filter: string;
  loaded: boolean;
  /** Why the last refresh failed, while it keeps failing. */
  error?: string;
}

interface RowProps {
  job: Job;
  columns: JobColumns;
  now: number;
  running: number;
  selected: boolean;
  focused: boolean;
}

const Row = memo(function Row({ job, columns, now, running, selected, focused }: RowProps) {
  const theme = useTheme();
  const c = jobCells(job, columns, now, running);
  return (
    <Text wrap="truncate" inverse={selected && focused} bold={selected && !focused}>
      {selected ? "› " : "  "}
      {c.name} <Text dimColor={!selected}>{c.schedule}</Text> {c.next} <Text {...toneProps(theme, c.lastTone)}>{c.last}</Text> {c.ok}{" "}
      <Text {...(job.error_count ? toneProps(theme, "err") : {})}>{c.err}</Text>{" "}
      <Text {...(job.disabled ? toneProps(theme, "warn") : {})}>{c.state}</Text> <Text {...toneProps(theme, "warn")}>{c.run}</Text>
    </Text>
  );
});

export function tableTitle(p: Pick<JobsTableProps, "jobs" | "total" | "sort" | "filter">): string {
  const count = p.filter ? `${p.jobs.length}/${p.total}` : `${p.total}`;
  const filter = p.filter ? ` · filter "${p.filter}"` : "";
  return `Jobs (${count}) · sort ${p.sort.key} ${p.sort.desc ? "↓" : "↑"}${filter}`;
}

export function JobsTable(p: JobsTableProps) {
  const columns = jobColumns(p.width);
  const window = p.jobs.slice(p.scroll, p.scroll + p.rows);
  const empty = !p.loaded
    ? p.error ? `${p.error} — retrying every 2 s` : "loading…"
    : p.total === 0
      ? "no jobs yet — press a to add one"
      : p.jobs.length === 0
        ? "no job matches the filter — / to change, Esc in it to clear"
        : "";
  const below = p.jobs.length - p.scroll - p.rows;
  const more = below > 0 ? `${below} more ↓` : "";
  return (
    <Box flexDirection="column" width={p.width} height={p.rows + 2}>
      <Text wrap="truncate" bold={p.focused} dimColor={!p.focused}>
        {rule(tableTitle(p), p.width, more)}
      </Text>
      <Text wrap="truncate" dimColor>{jobHeader(columns)}</Text>
      {empty ? <Text dimColor>  {empty}</Text> : null}
      {window.map((job, i) => (
        <Row
          key={job.name}
          job={job}
          columns={columns}
          now={p.now}
          running={p.running[job.name]?.length ?? 0}
          selected={p.scroll + i === p.cursor}
          focused={p.focused}
        />
      ))}
    </Box>
  );
}
