// Everything that can happen to the dashboard (actions), and everything the
// reducer asks the outside world to do (effects).
import type { ClusterEvent, LinkStatus } from "../../client/events.js";
import type { Execution } from "../../shared/execution.js";
import type { Job } from "../../shared/job.js";
import type { Member } from "../../shared/member.js";
import type { ClusterInfo } from "../api.js";
import type { KeyPress } from "../keybindings.js";

export interface Snapshot {
  jobs?: Job[];
  members?: Member[];
  leader?: string;
  info?: ClusterInfo;
  /** Every running execution (GET /v1/executions?status=running). */
  running?: Execution[];
}

/** A failed API call, as the UI needs it. */
export interface ApiFailure {
  code: string;
  message: string;
  field?: string;
}

export type Action =
  | { type: "key"; key: KeyPress }
  | { type: "resize"; columns: number; rows: number }
  | { type: "tick"; now: number }
  | { type: "snapshot"; snapshot: Snapshot; now: number }
  | { type: "refreshFailed"; message: string; now: number }
  | { type: "events"; events: readonly ClusterEvent[] }
  | { type: "link"; status: LinkStatus; now: number }
  | { type: "jobs"; jobs: readonly Job[] }
  | { type: "executions"; job: string; items: readonly Execution[] }
  | { type: "execution"; execution: Execution }
  | { type: "output"; job: string; id: string; data: string; replace: boolean }
  | { type: "outputSource"; job: string; id: string; source: "socket" | "polling" | "done" }
  | { type: "effectDone"; effect: Effect; job?: Job; now: number }
  | { type: "effectFailed"; effect: Effect; error: ApiFailure; now: number };

export type Effect =
  | { kind: "run"; job: string }
  | { kind: "toggle"; job: string }
  | { kind: "delete"; job: string }
  | { kind: "kill"; job: string; id: string }
  | { kind: "save"; body: Record<string, unknown>; mode: "add" | "edit" }
  | { kind: "quit" };

export const describeEffect = (e: Effect): string => {
  switch (e.kind) {
    case "run":
      return `run ${e.job}`;
    case "toggle":
      return `toggle ${e.job}`;
    case "delete":
      return `delete ${e.job}`;
    case "kill":
      return `kill ${e.job} ${e.id}`;
    case "save":
      return `save ${String(e.body.name)}`;
    case "quit":
      return "quit";
  }
};
