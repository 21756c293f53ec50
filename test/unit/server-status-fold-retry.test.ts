// foldStatus (scheduler/status-fold.ts) with retries: a retry stands in for the failed attempt
// before it in the same group, so "failed, then success on retry" is a successful group, while
// counters count every attempt; re-delivered records change nothing; a newer group resets the
// per-group tallies and an older one never touches the status.
import { describe, expect, it } from "vitest";
import { foldStatus } from "../../src/server/scheduler/status-fold.js";
import { emptyStatus, type JobStatus } from "../../src/shared/job.js";
import type { ExecutionRecord } from "../../src/shared/execution.js";

const rec = (group: number, node: string, attempt: number, success: boolean): ExecutionRecord => ({
  state: "finished", id: `${group}-${node}-${attempt}`, job_name: "j", group_ms: group, attempt, node_name: node,
  started_at: group + attempt * 10, finished_at: group + attempt * 10 + 5, success, exit_code: success ? 0 : 1,
  output: "", output_truncated: false, trigger: attempt > 1 ? "retry" : "schedule",
});

/** Folds records in order, with stream sequences 1, 2, 3 … */
function fold(records: ExecutionRecord[], from: JobStatus = emptyStatus()): JobStatus {
  return records.reduce((s, r, i) => foldStatus(s, r, from.seq + i + 1), from);
}

describe("foldStatus with retries", () => {
  it("failed attempt 1, then success on attempt 2 in the same group: success; one error and one success counted", () => {
    const s = fold([rec(1_000, "n1", 1, false), rec(1_000, "n1", 2, true)]);
    expect(s).toMatchObject({
      status: "success", success_count: 1, error_count: 1, last_success: 1_025, last_error: 1_015,
      group: 1_000, group_success: 1, group_failed: 0, seq: 2,
    });
  });

  it("after the first attempt alone the group is failed", () => {
    expect(fold([rec(1_000, "n1", 1, false)]).status).toBe("failed");
  });

  it("every attempt failing (retries 2 → 3 attempts) stays failed with 3 errors", () => {
    const s = fold([rec(1_000, "n1", 1, false), rec(1_000, "n1", 2, false), rec(1_000, "n1", 3, false)]);
    expect(s).toMatchObject({ status: "failed", error_count: 3, success_count: 0, group_failed: 1, group_success: 0 });
  });

  it("two failures then a success on attempt 3: success", () => {
    const s = fold([rec(1_000, "n1", 1, false), rec(1_000, "n1", 2, false), rec(1_000, "n1", 3, true)]);
    expect(s).toMatchObject({ status: "success", error_count: 2, success_count: 1, group_failed: 0, group_success: 1 });
  });

  it("two nodes, one fails then succeeds on retry (possibly on the other node): partially_failed, then success", () => {
    const partial = fold([rec(1_000, "n1", 1, true), rec(1_000, "n2", 1, false)]);
    expect(partial.status).toBe("partially_failed");
    expect(foldStatus(partial, rec(1_000, "n1", 2, true), partial.seq + 1).status).toBe("success");
    expect(foldStatus(partial, rec(1_000, "n2", 2, true), partial.seq + 1).status).toBe("success");
    // Its retry failing too leaves the group partially failed.
    expect(foldStatus(partial, rec(1_000, "n2", 2, false), partial.seq + 1).status).toBe("partially_failed");
  });

  it("a re-delivered record (sequence already applied) changes nothing", () => {
    const s = fold([rec(1_000, "n1", 1, false), rec(1_000, "n1", 2, true)]);
    expect(foldStatus(s, rec(1_000, "n1", 2, true), 2)).toBe(s);
    expect(foldStatus(s, rec(1_000, "n1", 1, false), 1)).toBe(s);
  });

  it("a newer group resets the tallies; a late retry of an older group counts but leaves the status alone", () => {
    const s = fold([rec(1_000, "n1", 1, false), rec(2_000, "n1", 1, true)]);
    expect(s).toMatchObject({ status: "success", group: 2_000, group_success: 1, group_failed: 0 });
    const late = foldStatus(s, rec(1_000, "n1", 2, false), s.seq + 1);
    expect(late).toMatchObject({ status: "success", group: 2_000, error_count: 2, group_failed: 0 });
  });

  it("a retry whose failed attempt was never tallied in this group is not subtracted (no negative tally)", () => {
    // n1 succeeds; n2's attempt 2 arrives without its attempt 1 having been folded into this group.
    const s = fold([rec(1_000, "n1", 1, true), rec(1_000, "n2", 2, false)]);
    expect(s.group_failed).toBe(1);
    expect(s.status).toBe("partially_failed");
  });
});
