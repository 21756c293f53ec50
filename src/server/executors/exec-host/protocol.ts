// Newline-delimited JSON between the agent and its exec host process.

export interface SpawnCommand {
  op: "spawn";
  id: number;
  file: string;
  args: string[];
  /** Added to the host's inherited environment. */
  env: Record<string, string>;
  cwd?: string;
  /** Base64 bytes written to the child's stdin, then closed; absent = no stdin. */
  stdin?: string;
  /** Epoch ms (fractional) at which to start; the host waits for it precisely. */
  at: number;
}

export interface KillCommand {
  op: "kill";
  id: number;
  signal: NodeJS.Signals;
}

export type HostCommand = SpawnCommand | KillCommand;

export type HostEvent =
  | { ev: "started"; id: number; pid: number; at: number }
  | { ev: "out"; id: number; data: string }
  | { ev: "exit"; id: number; code: number | null; signal: string | null }
  | { ev: "error"; id: number; message: string };
