// Colours are decoration only: every state also shows as a word or a symbol,
// so the dashboard reads the same under NO_COLOR.
import { createContext, useContext } from "react";

export type Tone = "ok" | "err" | "warn" | "accent" | "muted" | "plain";

export interface Theme {
  color: boolean;
}

export const ThemeContext = createContext<Theme>({ color: true });
export const useTheme = (): Theme => useContext(ThemeContext);

const COLORS: Record<Tone, string | undefined> = {
  ok: "green",
  err: "red",
  warn: "yellow",
  accent: "cyan",
  muted: undefined,
  plain: undefined,
};

/** Props for Ink's <Text>: colour only when allowed; dim is an attribute, kept either way. */
export function toneProps(theme: Theme, tone: Tone): { color?: string; dimColor?: boolean } {
  if (tone === "muted") return { dimColor: true };
  const color = COLORS[tone];
  return theme.color && color ? { color } : {};
}
