// `dkron tui`: renders the dashboard on the terminal's alternate screen until q.
// Loaded lazily by the CLI, so no other command pays for Ink and React.
import { render } from "ink";
import { DkronClient } from "../client/http.js";
import { apiFromClient } from "./api.js";
import { App } from "./app.js";
import { ALT_SCREEN_OFF, ALT_SCREEN_ON, FrameWriter } from "./terminal.js";
import { colorAllowed } from "./theme.js";

export interface TuiOptions {
  address: string;
  token?: string;
  env: Record<string, string | undefined>;
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
}

/** The dashboard's requests give up sooner than the CLI's: the screen must keep moving. */
const TUI_TIMEOUT_MS = 5000;

export async function runTui(opts: TuiOptions): Promise<void> {
  const client = new DkronClient({ address: opts.address, timeoutMs: TUI_TIMEOUT_MS, ...(opts.token ? { token: opts.token } : {}) });
  const api = apiFromClient(client, { timeoutMs: TUI_TIMEOUT_MS, ...(opts.token ? { token: opts.token } : {}) });
  const stdout = opts.stdout ?? process.stdout;
  const stdin = opts.stdin ?? process.stdin;
  const screen = new FrameWriter(stdout);
  stdout.write(ALT_SCREEN_ON);
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    screen.close();
    stdout.write(ALT_SCREEN_OFF);
  };
  // Debug mode: Ink hands each whole frame to the FrameWriter, which draws the differences.
  const instance = render(<App api={api} color={colorAllowed(opts.env)} />, {
    stdout: screen as unknown as NodeJS.WriteStream,
    stdin,
    debug: true,
    exitOnCtrlC: false,
    patchConsole: false,
  });
  const stop = () => instance.unmount();
  const signals: NodeJS.Signals[] = ["SIGTERM", "SIGHUP", "SIGINT"];
  for (const s of signals) process.on(s, stop);
  // Whatever happens, the shell gets its screen back.
  process.once("exit", restore);
  try {
    await instance.waitUntilExit();
  } finally {
    for (const s of signals) process.off(s, stop);
    process.off("exit", restore);
    restore();
  }
}
