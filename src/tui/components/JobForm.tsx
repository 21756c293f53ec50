// Add / edit a job. The server validates; its error shows next to the field
// it names (or under the form when it names none of these fields).
import { Box, Text } from "ink";
import type { ReactElement } from "react";
import { fit, rule } from "../format.js";
import { FIELDS, isReadOnly, type FormState } from "../state/form.js";
import { toneProps, useTheme } from "../theme.js";

export interface JobFormProps {
  form: FormState;
  width: number;
  height: number;
}

const LABEL = 14;

export function JobForm({ form, width, height }: JobFormProps) {
  const theme = useTheme();
  const valueW = Math.max(10, width - LABEL - 4);
  const title = form.mode === "add" ? "Add job" : `Edit job ${form.original?.name ?? ""}`;
  const lines: ReactElement[] = [];
  FIELDS.forEach((f, i) => {
    const focused = i === form.focus;
    const value = form.values[f.key];
    const readOnly = isReadOnly(form, f.key);
    const shown =
      f.kind === "toggle" ? `[${value === "yes" ? "x" : " "}] ${value}` : f.kind === "choice" ? `‹ ${value} ›` : value;
    // The tail of a long value stays visible while typing.
    const chars = [...shown];
    const visible = chars.length > valueW - 1 ? `…${chars.slice(chars.length - valueW + 2).join("")}` : shown;
    const error = form.errors[f.key];
    lines.push(
      <Text key={f.key} wrap="truncate">
        <Text bold={focused}>{focused ? "› " : "  "}{fit(f.label, LABEL)}</Text>{" "}
        {readOnly ? (
          <Text dimColor>{visible} (fixed)</Text>
        ) : value === "" && f.placeholder ? (
          <Text dimColor>{focused ? "█" : ""}{fit(f.placeholder, valueW - 1)}</Text>
        ) : (
          <Text inverse={focused && f.kind !== "text"}>{visible}{focused && f.kind === "text" ? "█" : ""}</Text>
        )}
      </Text>,
    );
    if (error) {
      // Up to two lines: a server message is worth reading whole.
      const w = Math.max(10, width - LABEL - 5);
      const chars = [...error];
      const parts = [chars.slice(0, w).join(""), chars.slice(w).join("")].filter(Boolean);
      parts.forEach((part, k) => {
        lines.push(
          <Text key={`${f.key}-error-${k}`} wrap="truncate" {...toneProps(theme, "err")}>
            {" ".repeat(LABEL + 3)}{k === 0 ? "↳ " : "  "}{fit(part, w)}
          </Text>,
        );
      });
    }
  });
  if (form.formError) lines.push(<Text key="form-error" wrap="truncate" {...toneProps(theme, "err")}>  ✗ {form.formError}</Text>);
  if (form.saving) lines.push(<Text key="saving" dimColor>  saving…</Text>);
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text bold wrap="truncate">{rule(`${title} · Enter saves · Esc cancels`, width)}</Text>
      {lines.slice(0, Math.max(0, height - 1))}
    </Box>
  );
}
