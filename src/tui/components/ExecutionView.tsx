// One execution: what, where, how long, and its output — following the end
// while it runs (j/k scroll away, f or G follows again).
import { Box, Text } from "ink";
import { executionDuration, executionStatus, fit, rule } from "../format.js";
import { outputLines } from "../state/output.js";
import type { ExecView } from "../state/types.js";
import { toneProps, useTheme } from "../theme.js";

export interface ExecutionViewProps {
  view: ExecView;
  width: number;
  height: number;
  now: number;
}

const SOURCE: Record<ExecView["source"], string> = {
  loading: "loading…",
  socket: "live",
  polling: "polling every 1s",
  done: "finished",
};

export function ExecutionView({ view, width, height, now }: ExecutionViewProps) {
  const theme = useTheme();
  const e = view.execution;
  const st = e ? executionStatus(e) : { text: "…", tone: "muted" as const, mark: "·" };
  const rows = Math.max(1, height - 2);
  const lines = outputLines(view.output, width);
  const last = Math.max(0, lines.length - rows);
  const scroll = view.follow ? last : Math.min(view.scroll, last);
  const shown = lines.slice(scroll, scroll + rows);
  const where = e
    ? [` on ${e.node_name}`, executionDuration(e, now), e.attempt > 1 ? `attempt ${e.attempt}` : "", e.trigger ?? ""].filter(Boolean).join(" · ")
    : "";
  const position = lines.length ? `lines ${scroll + 1}-${scroll + shown.length} of ${lines.length}` : "no output";
  const follow = view.follow ? "following" : "f: follow";
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text wrap="truncate">
        <Text bold>{view.job}</Text> <Text dimColor>{view.id}</Text> <Text {...toneProps(theme, st.tone)}>{`${st.mark} ${st.text}`}</Text>
        {where}
        {e?.reason ? <Text {...toneProps(theme, "err")}> · {e.reason}</Text> : null}
      </Text>
      <Text wrap="truncate" dimColor>
        {rule(`output · ${SOURCE[view.source]}${e?.output_truncated ? " · truncated" : ""}`, width, `${position} · ${follow}`)}
      </Text>
      {shown.map((l, i) => (
        <Text key={scroll + i} wrap="truncate">{fit(l, width)}</Text>
      ))}
    </Box>
  );
}
