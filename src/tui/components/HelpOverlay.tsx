// Every key, straight from the bindings table, in as many columns as fit.
import { Box, Text } from "ink";
import { fit, rule } from "../format.js";
import { helpEntries } from "../keybindings.js";
import { toneProps, useTheme } from "../theme.js";

type Cell = { kind: "title"; text: string } | { kind: "key"; label: string; help: string };

export function helpCells(): Cell[] {
  const cells: Cell[] = [];
  for (const s of helpEntries()) {
    cells.push({ kind: "title", text: s.title });
    for (const b of s.entries) cells.push({ kind: "key", label: b.label, help: b.help });
  }
  return cells;
}

export function HelpOverlay({ width, height }: { width: number; height: number }) {
  const theme = useTheme();
  const cells = helpCells();
  const rows = Math.max(1, height - 1);
  const columns = Math.max(1, Math.ceil(cells.length / rows));
  const colW = Math.floor(width / columns);
  const cols = Array.from({ length: columns }, (_, c) => cells.slice(c * rows, (c + 1) * rows));
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text bold wrap="truncate">{rule("Keys · Esc closes", width)}</Text>
      <Box flexDirection="row">
        {cols.map((col, c) => (
          <Box key={c} flexDirection="column" width={colW}>
            {col.map((cell, i) =>
              cell.kind === "title" ? (
                <Text key={i} bold wrap="truncate" {...toneProps(theme, "accent")}>{fit(cell.text, colW - 1)}</Text>
              ) : (
                <Text key={i} wrap="truncate">
                  <Text bold>{fit(cell.label, 8)}</Text>
                  {fit(cell.help, colW - 9)}
                </Text>
              ),
            )}
          </Box>
        ))}
      </Box>
    </Box>
  );
}
