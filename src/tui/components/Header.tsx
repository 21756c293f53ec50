// Two lines: the cluster (address, node, leader, nodes, paused) with the
// connection state, then the views.
import { Box, Text } from "ink";
import { memo } from "react";
import type { ConnMode, View } from "../state/types.js";
import { toneProps, useTheme, type Tone } from "../theme.js";
import { fit } from "../format.js";

export interface HeaderProps {
  width: number;
  address: string;
  node: string;
  leader: string;
  dc?: string;
  nodes: number;
  alive: number;
  paused?: boolean;
  mode: ConnMode;
  socketError?: string;
  retryInS?: number;
  view: View;
  jobs: number;
  running: number;
}

function connection(p: HeaderProps): { text: string; tone: Tone } {
  switch (p.mode) {
    case "live":
      return { text: "● live", tone: "ok" };
    case "connecting":
      return { text: "… connecting", tone: "muted" };
    case "offline":
      // The reason is in the jobs pane, which has the room for it.
      return { text: "✗ offline, retrying", tone: "err" };
    case "polling": {
      const retry = p.retryInS !== undefined ? `, retry ${p.retryInS}s` : "";
      return { text: `◌ polling (events: ${p.socketError ?? "down"}${retry})`, tone: "warn" };
    }
  }
}

export const Header = memo(function Header(p: HeaderProps) {
  const theme = useTheme();
  const conn = connection(p);
  const left = [
    `dkron ${p.address}`,
    p.node && `node ${p.node}`,
    `leader ${p.leader ? `★ ${p.leader}` : "none"}`,
    `${p.alive}/${p.nodes} nodes`,
    p.dc && `dc ${p.dc}`,
  ].filter(Boolean).join(" · ");
  const pausedText = p.paused ? " PAUSED " : "";
  const connWidth = Math.min([...conn.text].length, Math.max(10, p.width - [...left].length - pausedText.length - 2));
  const leftWidth = Math.max(0, p.width - connWidth - pausedText.length - 1);
  const tab = (v: View, label: string) => (p.view === v ? `[${label}]` : ` ${label} `);
  const tabs = `${tab("jobs", "1 Jobs")} ${tab("members", "2 Members")}${p.view === "execution" ? " [Output]" : ""}`;
  const stats = `${p.jobs} jobs · ${p.running} running`;
  return (
    <Box flexDirection="column" width={p.width}>
      <Text wrap="truncate">
        <Text bold>{fit(left, leftWidth)}</Text>
        {pausedText ? <Text inverse {...toneProps(theme, "warn")}>{pausedText}</Text> : null}
        <Text> </Text>
        <Text {...toneProps(theme, conn.tone)}>{fit(conn.text, connWidth, "right")}</Text>
      </Text>
      <Text wrap="truncate">
        <Text {...toneProps(theme, "accent")}>{tabs}</Text>
        <Text dimColor>{fit(stats, Math.max(0, p.width - [...tabs].length), "right")}</Text>
      </Text>
    </Box>
  );
});
