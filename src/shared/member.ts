// Membership: the heartbeat every node publishes, and Dkron's Member JSON.

export interface RunningExecution {
  id: string;
  job: string;
  group_ms: number;
  attempt: number;
  started_at: number;
}

export interface Heartbeat {
  name: string;
  addr: string;
  port: number;
  http: string;
  tags: Record<string, string>;
  server: boolean;
  version: string;
  /** Executions running on the node right now. */
  running: RunningExecution[];
  started_at: number;
  leaving?: boolean;
}

/** Serf-style status numbers, as Dkron reports them. */
export const MEMBER_STATUS = { alive: 1, leaving: 2, left: 3, failed: 4 } as const;
export type MemberStatusText = keyof typeof MEMBER_STATUS;

export interface Member {
  id: string;
  Name: string;
  Addr: string;
  Port: number;
  Tags: Record<string, string>;
  Status: number;
  ProtocolMin: number;
  ProtocolMax: number;
  ProtocolCur: number;
  DelegateMin: number;
  DelegateMax: number;
  DelegateCur: number;
  statusText: MemberStatusText;
  /** Additive fields for the CLI and TUI. */
  role: "server" | "worker";
  leader: boolean;
  last_seen: string;
  version: string;
}
