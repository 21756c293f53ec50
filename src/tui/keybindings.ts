// Every key the dashboard understands, in one table: the input handler, the
// help overlay and the status-bar hints all read it. Pure; no React.

/** Where the keyboard is: decides what a key means. */
export type Mode = "table" | "detail" | "members" | "execution" | "filter" | "form" | "confirm" | "help";

export type Command =
  | "up" | "down" | "pageUp" | "pageDown" | "top" | "bottom"
  | "open" | "back" | "switchPane" | "filter" | "sort" | "reverseSort"
  | "run" | "toggle" | "delete" | "kill" | "add" | "edit" | "parent" | "children"
  | "jobsView" | "membersView" | "help" | "quit" | "follow"
  | "apply" | "clear" | "erase" | "confirm" | "cancel"
  | "nextField" | "prevField" | "cycle" | "submit";

/** A key press, normalised: named keys ("up", "enter", "esc", "tab", "backtab", "pageup", …) or the character typed. */
export interface KeyPress {
  name: string;
  /** What the key types, for text fields ("" for named keys). */
  text: string;
}

/** The subset of Ink's Key this module reads. */
export interface InkKey {
  upArrow?: boolean;
  downArrow?: boolean;
  leftArrow?: boolean;
  rightArrow?: boolean;
  pageUp?: boolean;
  pageDown?: boolean;
  home?: boolean;
  end?: boolean;
  return?: boolean;
  escape?: boolean;
  tab?: boolean;
  shift?: boolean;
  ctrl?: boolean;
  meta?: boolean;
  backspace?: boolean;
  delete?: boolean;
}

/**
 * Ink hands over what one read returned: keys typed faster than it reads
 * (key repeat, tmux send-keys, a paste) arrive as one string. Each character
 * is a key of its own; text fields get them one by one, which types the same.
 */
export function keysOf(input: string, key: InkKey): KeyPress[] {
  const chars = [...input];
  const plain = !key.ctrl && !key.meta && !key.return && !key.escape && !key.tab && !key.backspace && !key.delete;
  if (chars.length > 1 && plain) return chars.map((c) => keyOf(c, {}));
  return [keyOf(input, key)];
}

export function keyOf(input: string, key: InkKey): KeyPress {
  const named = (name: string): KeyPress => ({ name, text: "" });
  if (key.upArrow) return named("up");
  if (key.downArrow) return named("down");
  if (key.leftArrow) return named("left");
  if (key.rightArrow) return named("right");
  if (key.pageUp) return named("pageup");
  if (key.pageDown) return named("pagedown");
  if (key.home) return named("home");
  if (key.end) return named("end");
  if (key.return) return named("enter");
  if (key.escape) return named("esc");
  if (key.tab) return named(key.shift ? "backtab" : "tab");
  // Terminals send DEL (0x7f) for Backspace; Ink reports it as `delete`.
  if (key.backspace || key.delete) return named("backspace");
  if (key.ctrl) return named(`ctrl+${input}`);
  if (key.meta) return named(`meta+${input}`);
  // Control characters that came inside a longer read, where Ink leaves them raw.
  if (input === "\r" || input === "\n") return named("enter");
  if (input === "\t") return named("tab");
  if (input === "\x7f" || input === "\b") return named("backspace");
  if (input === "\x1b") return named("esc");
  const code = input.length === 1 ? input.charCodeAt(0) : -1;
  if (code >= 1 && code <= 26) return named(`ctrl+${String.fromCharCode(code + 96)}`);
  return { name: input, text: input };
}

export interface Binding {
  command: Command;
  keys: readonly string[];
  /** How the help overlay writes the keys. */
  label: string;
  help: string;
  modes: readonly Mode[];
  /** Left out of the help overlay (a duplicate way to do something listed). */
  hidden?: boolean;
}

const LISTS: readonly Mode[] = ["table", "detail", "members", "execution"];
const JOBS: readonly Mode[] = ["table", "detail"];
const BROWSE: readonly Mode[] = ["table", "detail", "members", "execution"];

export const BINDINGS: readonly Binding[] = [
  { command: "up", keys: ["up", "k"], label: "↑ k", help: "move up", modes: LISTS },
  { command: "down", keys: ["down", "j"], label: "↓ j", help: "move down", modes: LISTS },
  { command: "pageUp", keys: ["pageup", "ctrl+u"], label: "PgUp", help: "page up", modes: LISTS },
  { command: "pageDown", keys: ["pagedown", "ctrl+d"], label: "PgDn", help: "page down", modes: LISTS },
  { command: "top", keys: ["home", "g"], label: "g Home", help: "first row", modes: LISTS },
  { command: "bottom", keys: ["end", "G"], label: "G End", help: "last row (output: follow)", modes: LISTS },
  { command: "open", keys: ["enter"], label: "Enter", help: "open details / execution output", modes: JOBS },
  { command: "switchPane", keys: ["tab", "backtab"], label: "Tab", help: "switch pane (jobs ↔ executions)", modes: JOBS },
  { command: "back", keys: ["esc", "backspace"], label: "Esc", help: "back", modes: ["detail", "members", "execution"] },
  { command: "filter", keys: ["/"], label: "/", help: "filter: name, tag k=v, status:failed, disabled, running", modes: JOBS },
  { command: "sort", keys: ["s"], label: "s", help: "sort by the next column", modes: JOBS },
  { command: "reverseSort", keys: ["S"], label: "S", help: "reverse the sort", modes: JOBS },
  { command: "run", keys: ["r"], label: "r", help: "run the job now", modes: JOBS },
  { command: "toggle", keys: ["t"], label: "t", help: "enable / disable the job", modes: JOBS },
  { command: "delete", keys: ["d"], label: "d", help: "delete the job (asks first)", modes: JOBS },
  { command: "kill", keys: ["x"], label: "x", help: "kill the running execution", modes: ["table", "detail", "execution"] },
  { command: "add", keys: ["a"], label: "a", help: "add a job", modes: JOBS },
  { command: "edit", keys: ["e"], label: "e", help: "edit the job", modes: JOBS },
  { command: "parent", keys: ["p"], label: "p", help: "jump to the parent job", modes: JOBS },
  { command: "children", keys: ["c"], label: "c", help: "jump to the (next) child job", modes: JOBS },
  { command: "follow", keys: ["f"], label: "f", help: "follow the output", modes: ["execution"] },
  { command: "jobsView", keys: ["1"], label: "1", help: "jobs", modes: BROWSE },
  { command: "membersView", keys: ["2", "m"], label: "2 m", help: "cluster members", modes: BROWSE },
  { command: "help", keys: ["?"], label: "?", help: "this help", modes: BROWSE },
  { command: "quit", keys: ["q", "ctrl+c"], label: "q", help: "quit", modes: BROWSE },
  // Text entry and dialogs.
  { command: "apply", keys: ["enter"], label: "Enter", help: "apply the filter", modes: ["filter"] },
  { command: "clear", keys: ["esc"], label: "Esc", help: "clear the filter", modes: ["filter"] },
  { command: "erase", keys: ["backspace"], label: "⌫", help: "delete a character", modes: ["filter", "form"] },
  { command: "nextField", keys: ["tab", "down"], label: "Tab ↓", help: "next field", modes: ["form"] },
  { command: "prevField", keys: ["backtab", "up"], label: "S-Tab ↑", help: "previous field", modes: ["form"] },
  { command: "cycle", keys: [" ", "left", "right"], label: "Space", help: "change a yes/no or choice field", modes: ["form"] },
  { command: "submit", keys: ["enter"], label: "Enter", help: "save the job", modes: ["form"] },
  { command: "cancel", keys: ["esc"], label: "Esc", help: "cancel", modes: ["form", "confirm"] },
  { command: "confirm", keys: ["y", "Y"], label: "y", help: "yes, delete", modes: ["confirm"] },
  { command: "cancel", keys: ["n", "N", "enter"], label: "n", help: "no", modes: ["confirm"] },
  { command: "back", keys: ["esc", "?", "q"], label: "Esc", help: "close the help", modes: ["help"], hidden: true },
  { command: "quit", keys: ["ctrl+c"], label: "C-c", help: "quit", modes: ["filter", "form", "confirm", "help"], hidden: true },
];

export type Resolved = { command: Command } | { text: string } | undefined;

/** Modes where printable keys type text rather than act. */
const TEXT_MODES: ReadonlySet<Mode> = new Set(["filter", "form"]);

const index = new Map<string, Command>();
for (const b of BINDINGS) for (const m of b.modes) for (const k of b.keys) {
  const id = `${m}\u0000${k}`;
  // First binding wins, so a key never means two things in one mode.
  if (!index.has(id)) index.set(id, b.command);
}

export function resolveKey(mode: Mode, key: KeyPress): Resolved {
  // In a form, space cycles yes/no fields; the reducer types it into text fields.
  const command = index.get(`${mode}\u0000${key.name}`);
  if (command && !(TEXT_MODES.has(mode) && key.text && command !== "cycle")) return { command };
  if (TEXT_MODES.has(mode) && key.text && !/[\x00-\x1f\x7f]/.test(key.text)) return { text: key.text };
  return undefined;
}

/** Bindings shown for one mode (help overlay, status-bar hints). */
export const bindingsFor = (mode: Mode): Binding[] => BINDINGS.filter((b) => b.modes.includes(mode));

/** The help overlay's sections: each lists the bindings of its modes not listed before. */
export const HELP_SECTIONS: ReadonlyArray<{ title: string; modes: readonly Mode[] }> = [
  { title: "Everywhere", modes: ["members"] },
  { title: "Jobs and executions", modes: ["table", "detail"] },
  { title: "Output", modes: ["execution"] },
  { title: "Filter, form, confirm", modes: ["filter", "form", "confirm"] },
];

export function helpEntries(): Array<{ title: string; entries: Binding[] }> {
  const seen = new Set<string>();
  return HELP_SECTIONS.map(({ title, modes }) => {
    const entries = BINDINGS.filter((b) => {
      const id = `${b.command}\u0000${b.label}`;
      if (b.hidden || seen.has(id) || !b.modes.some((m) => modes.includes(m))) return false;
      seen.add(id);
      return true;
    });
    return { title, entries };
  });
}

/** One-line hints for the status bar. */
export const HINTS: Record<Mode, string> = {
  table: "?:help /:filter Enter:details r:run t:toggle d:delete a:add e:edit q:quit",
  detail: "?:help Enter:output x:kill Tab/Esc:jobs r:run t:toggle e:edit q:quit",
  members: "?:help ↑↓:move 1:jobs q:quit",
  execution: "?:help ↑↓:scroll f:follow x:kill Esc:back q:quit",
  filter: "Enter:apply Esc:clear — name, k=v tag, status:failed, disabled, running",
  form: "Tab/↓ ↑:field Space:toggle Enter:save Esc:cancel",
  confirm: "y:delete n/Esc:keep",
  help: "Esc:close",
};
