// The bottom line: what is being typed or asked, the last message, or hints.
import { Text } from "ink";
import { fit } from "../format.js";
import { HINTS, type Mode } from "../keybindings.js";
import type { Flash } from "../state/types.js";
import { toneProps, useTheme } from "../theme.js";

export interface StatusBarProps {
  width: number;
  mode: Mode;
  filterDraft?: string;
  confirmJob?: string;
  flash?: Flash;
}

export function StatusBar(p: StatusBarProps) {
  const theme = useTheme();
  if (p.mode === "filter") {
    const prompt = `/${p.filterDraft ?? ""}█`;
    return (
      <Text wrap="truncate">
        <Text bold>{prompt}</Text>
        <Text dimColor>{fit(`  ${HINTS.filter}`, Math.max(0, p.width - [...prompt].length))}</Text>
      </Text>
    );
  }
  if (p.mode === "confirm") {
    return (
      <Text wrap="truncate" {...toneProps(theme, "warn")} bold>
        {fit(`Delete job ${p.confirmJob}? This removes its executions too. y: delete, n/Esc: keep`, p.width)}
      </Text>
    );
  }
  if (p.flash) {
    return (
      <Text wrap="truncate" {...toneProps(theme, p.flash.kind === "error" ? "err" : "accent")}>
        {fit(`${p.flash.kind === "error" ? "✗ " : ""}${p.flash.text}`, p.width)}
      </Text>
    );
  }
  return <Text wrap="truncate" dimColor>{fit(HINTS[p.mode], p.width)}</Text>;
}
