// Executions lost with their node (src/server/scheduler/reconcile.ts) and the job-status fold
// (src/server/scheduler/status-fold.ts): counters, per-group status, idempotence by sequence.
import { describe, expect, it } from "vitest";
import type { MemberState } from "../../src/server/cluster/members.js";
import { findLost } from "../../src/server/scheduler/reconcile.js";
import { foldStatus } from "../../src/server/scheduler/status-fold.js";
import type { ExecutionRecord } from "../../src/shared/execution.js";
import { emptyStatus, type JobStatus } from "../../src/shared/job.js";
import type { RunningExecution } from "../../src/shared/member.js";

function rec(over: Partial<ExecutionRecord> = {}): ExecutionRecord {
  return {
    state: "finished",
    id: "e1",
    job_name: "job",
    group_ms: 1_000,
    attempt: 1,
    node_name: "n1",
    started_at: 1_000,
    finished_at: 2_000,
    success: true,
    exit_code: 0,
    output: "",
    output_truncated: false,
    trigger: "schedule",
    ...over,
  };
}

function member(startedAt: number, running: Array<Partial<RunningExecution> & { id: string }> = []): MemberState {
  return {
    hb: {
      name: "n1", addr: "127.0.0.1", port: 8946, http: "", tags: {}, server: false, version: "test",
      running: running.map((r) => ({ job: "job", group_ms: 0, attempt: 1, started_at: 0, ...r })),
      started_at: startedAt,
    },
    lastSeen: 0,
    left: false,
  };
}

describe("findLost", () => {
  const now = 100_000;
  const grace = 5_000;
  const running = (over: Partial<ExecutionRecord> = {}) => rec({ state: "started", finished_at: null, started_at: 50_000, ...over });

  it("an execution on a node unknown to the cluster is lost", () => {
    const lost = findLost([running()], () => undefined, now, grace);
    expect(lost).toHaveLength(1);
    expect(lost[0]!.record.id).toBe("e1");
    expect(lost[0]!.reason).toMatch(/n1.*unknown.*node lost/);
  });

  it("an execution on a dead node is lost", () => {
    const lost = findLost([running()], () => ({ state: member(1_000, [{ id: "e1" }]), alive: false }), now, grace);
    expect(lost.map((l) => l.reason)).toEqual([expect.stringMatching(/stopped responding/)]);
  });

  it("an execution on a node that restarted since, and does not list it, is lost", () => {
    const lost = findLost([running()], () => ({ state: member(60_000, []), alive: true }), now, grace);
    expect(lost.map((l) => l.reason)).toEqual([expect.stringMatching(/restarted/)]);
  });

  it("a live node still listing it, or not restarted (outbox not flushed yet), keeps it running", () => {
    expect(findLost([running()], () => ({ state: member(60_000, [{ id: "e1" }]), alive: true }), now, grace)).toEqual([]);
    expect(findLost([running()], () => ({ state: member(1_000, []), alive: true }), now, grace)).toEqual([]);
  });

  it("an execution younger than the grace period is left alone, whatever the node", () => {
    expect(findLost([running({ started_at: now - grace + 1 })], () => undefined, now, grace)).toEqual([]);
    expect(findLost([running({ started_at: now - grace })], () => undefined, now, grace)).toHaveLength(1);
  });

  it("judges each execution on its own node", () => {
    const members: Record<string, { state: MemberState; alive: boolean }> = {
      n1: { state: member(1_000, [{ id: "a" }]), alive: true },
      n2: { state: member(1_000), alive: false },
    };
    const lost = findLost(
      [running({ id: "a", node_name: "n1" }), running({ id: "b", node_name: "n2" }), running({ id: "c", node_name: "n3" })],
      (n) => members[n], now, grace,
    );
    expect(lost.map((l) => l.record.id)).toEqual(["b", "c"]);
  });
});

describe("foldStatus", () => {
  const fold = (records: Array<[ExecutionRecord, number]>, start: JobStatus = emptyStatus()) =>
    records.reduce((s, [r, seq]) => foldStatus(s, r, seq), start);

  it("counts successes and failures and keeps the latest times", () => {
    const s = fold([
      [rec({ success: true, finished_at: 5_000 }), 1],
      [rec({ success: false, finished_at: 7_000 }), 2],
      [rec({ success: true, finished_at: 4_000 }), 3],
    ]);
    expect(s).toMatchObject({ success_count: 2, error_count: 1, last_success: 5_000, last_error: 7_000, seq: 3 });
  });

  it("uses started_at when an execution has no finish time", () => {
    expect(fold([[rec({ success: false, finished_at: null, started_at: 3_000 }), 1]]).last_error).toBe(3_000);
  });

  it("status is per execution group: success, failed, partially_failed", () => {
    expect(fold([[rec({ group_ms: 10, success: true }), 1], [rec({ group_ms: 10, success: true, node_name: "n2" }), 2]]).status).toBe("success");
    expect(fold([[rec({ group_ms: 10, success: false }), 1], [rec({ group_ms: 10, success: false, node_name: "n2" }), 2]]).status).toBe("failed");
    const mixed = fold([[rec({ group_ms: 10, success: true }), 1], [rec({ group_ms: 10, success: false, node_name: "n2" }), 2]]);
    expect(mixed).toMatchObject({ status: "partially_failed", group: 10, group_success: 1, group_failed: 1 });
  });

  it("a newer group resets the tallies; an older group's late result counts but does not change the status", () => {
    const s1 = fold([[rec({ group_ms: 10, success: false }), 1], [rec({ group_ms: 20, success: true }), 2]]);
    expect(s1).toMatchObject({ status: "success", group: 20, group_success: 1, group_failed: 0, error_count: 1, success_count: 1 });
    const s2 = foldStatus(s1, rec({ group_ms: 10, success: false, node_name: "n2" }), 3);
    expect(s2).toMatchObject({ status: "success", group: 20, group_success: 1, group_failed: 0, error_count: 2 });
  });

  it("is idempotent by sequence: re-delivered or older records change nothing", () => {
    const s = fold([[rec({ success: true }), 5]]);
    expect(foldStatus(s, rec({ success: true }), 5)).toBe(s);
    expect(foldStatus(s, rec({ success: false }), 4)).toBe(s);
    const again = fold([[rec({ success: true }), 5], [rec({ success: true }), 5], [rec({ success: true }), 3]]);
    expect(again).toEqual(s);
  });

  it("does not mutate the status it is given", () => {
    const s = emptyStatus();
    foldStatus(s, rec(), 1);
    expect(s).toEqual(emptyStatus());
  });
});
