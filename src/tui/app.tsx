// The dashboard: the store, the data feeds and the keyboard, around Screen.
import { render, useApp, useInput, useStdout, type Instance } from "ink";
import { useCallback, useMemo } from "react";
import { followOutput, subscribeEvents } from "../client/events.js";
import type { TuiApi } from "./api.js";
import { Screen } from "./components/Screen.js";
import { runEffect } from "./effects.js";
import { DEFAULT_DATA_OPTIONS, useClusterData, type DataOptions, type Streams } from "./hooks/useClusterData.js";
import { useExecutionOutput } from "./hooks/useExecutionOutput.js";
import { useStore } from "./hooks/useStore.js";
import { readSize, useTerminalSize } from "./hooks/useTerminalSize.js";
import { keysOf } from "./keybindings.js";
import type { Action, Effect } from "./state/actions.js";
import { initialState } from "./state/types.js";
import { ThemeContext } from "./theme.js";

export const REAL_STREAMS: Streams = { events: subscribeEvents, output: followOutput };

export interface AppProps {
  api: TuiApi;
  /** WebSocket feeds; null polls only (tests). */
  streams?: Streams | null;
  /** Pins the size (tests); otherwise the terminal's, following resizes. */
  size?: { columns: number; rows: number };
  color?: boolean;
  data?: DataOptions;
}

export function App({ api, streams = REAL_STREAMS, size, color = true, data = DEFAULT_DATA_OPTIONS }: AppProps) {
  const { exit } = useApp();
  const { stdout } = useStdout();
  const run = useCallback(
    (effect: Effect, dispatch: (a: Action) => void) => {
      if (effect.kind === "quit") exit();
      else void runEffect(effect, api, dispatch, data.now);
    },
    [api, exit, data],
  );
  const store = useStore(() => initialState({ address: api.address, now: data.now(), ...(size ?? readSize(stdout)) }), run);
  const { dispatch } = store;
  const onResize = useCallback((s: { columns: number; rows: number }) => dispatch({ type: "resize", ...s }), [dispatch]);
  useTerminalSize(onResize, size);
  useClusterData(api, store, streams, data);
  useExecutionOutput(api, store.state.execView, dispatch, streams);
  useInput((input, key) => {
    for (const k of keysOf(input, key)) dispatch({ type: "key", key: k });
  });
  const theme = useMemo(() => ({ color }), [color]);
  return (
    <ThemeContext.Provider value={theme}>
      <Screen state={store.state} />
    </ThemeContext.Provider>
  );
}

/**
 * Renders the app in Ink's debug mode: every frame goes whole to `stdout`
 * (a FrameWriter, which draws only what changed).
 */
export function mount(props: AppProps, stdout: NodeJS.WriteStream, stdin: NodeJS.ReadStream): Instance {
  return render(<App {...props} />, { stdout, stdin, debug: true, exitOnCtrlC: false, patchConsole: false });
}
