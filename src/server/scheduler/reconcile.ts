// Executions recorded as running whose node can no longer finish them: the
// node is gone, or it restarted since (a new incarnation does not list it).
// Marking them failed keeps `forbid` jobs from being blocked forever
// (Dkron #1569, #1939). Pure.
import type { ExecutionRecord } from "../../shared/execution.js";
import type { MemberState } from "../cluster/members.js";

export interface LostExecution {
  record: ExecutionRecord;
  reason: string;
}

export function findLost(
  running: ExecutionRecord[],
  member: (name: string) => { state: MemberState; alive: boolean } | undefined,
  now: number,
  graceMs: number,
): LostExecution[] {
  const out: LostExecution[] = [];
  for (const r of running) {
    if (now - r.started_at < graceMs) continue; // the node's heartbeat may not list it yet
    const m = member(r.node_name);
    if (!m) {
      out.push({ record: r, reason: `node ${r.node_name} is unknown to the cluster (node lost)` });
    } else if (!m.alive) {
      out.push({ record: r, reason: `node ${r.node_name} stopped responding (node lost)` });
    } else if (m.state.hb.started_at > r.started_at && !m.state.hb.running.some((x) => x.id === r.id)) {
      // A live node that merely has not reported a finish yet may still have
      // it in its outbox: only a restart proves the execution is gone.
      out.push({ record: r, reason: `node ${r.node_name} restarted while the execution was running (node lost)` });
    }
  }
  return out;
}
