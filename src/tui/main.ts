// `dkron tui`: renders the dashboard on the terminal's alternate screen until q.
// Loaded lazily by the CLI, so no other command pays for Ink and React. Plain
// .ts, no JSX: nothing imported statically here may load React, whose build
// (development or production) is chosen when it is first loaded.
import { DkronClient } from "../client/http.js";
import { apiFromClient, fetchSnapshot } from "./api.js";
import { ALT_SCREEN_OFF, ALT_SCREEN_ON, FrameWriter } from "./terminal.js";

export interface TuiOptions {
  address: string;
  token?: string;
  env: Record<string, string | undefined>;
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
}

/** https://no-color.org: a non-empty NO_COLOR turns colour off; so does TERM=dumb. */
export const colorAllowed = (env: Record<string, string | undefined>): boolean => !env.NO_COLOR && env.TERM !== "dumb";

/** The dashboard's requests give up sooner than the CLI's: the screen must keep moving. */
const TUI_TIMEOUT_MS = 5000;

export async function runTui(opts: TuiOptions): Promise<void> {
  // React's production build: scripts/build.mjs defines process.env.NODE_ENV for the bundle.
  const client = new DkronClient({ address: opts.address, timeoutMs: TUI_TIMEOUT_MS, ...(opts.token ? { token: opts.token } : {}) });
  const api = apiFromClient(client, { timeoutMs: TUI_TIMEOUT_MS, ...(opts.token ? { token: opts.token } : {}) });
  // The first read runs while Ink and React load.
  const first = fetchSnapshot(api);
  first.catch(() => {});
  const [{ mount }, { DEFAULT_DATA_OPTIONS }] = await Promise.all([import("./app.js"), import("./hooks/useClusterData.js")]);
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
  const data = { ...DEFAULT_DATA_OPTIONS, first };
  const instance = mount({ api, color: colorAllowed(opts.env), data }, screen as unknown as NodeJS.WriteStream, stdin);
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
