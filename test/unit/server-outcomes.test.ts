// What the leader does with finished executions (scheduler/outcomes.ts), with injected deps:
// retry delays and targets, retries scheduled with the job's backoff (fake timers), group
// completion against the expected number of targets, children once per successful group (never
// after a failed one), ephemeral jobs deleted after their first successful group, notifications
// only after the final attempt, and nothing left pending after stop().
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Outcomes, retryDelayMs, retryTarget, type OutcomeDeps } from "../../src/server/scheduler/outcomes.js";
import { selectTargets, type Candidate, type Selection } from "../../src/server/scheduler/targets.js";
import { silentLogger } from "../../src/server/logger.js";
import { parseJobInput, type JobSpec } from "../../src/shared/job.js";
import type { ExecutionRecord } from "../../src/shared/execution.js";

const spec = (name: string, extra: Record<string, unknown> = {}): JobSpec =>
  parseJobInput({ name, schedule: "@manually", executor_config: { command: "true" }, ...extra });

const rec = (job: string, group: number, node: string, attempt: number, success: boolean, extra: Partial<ExecutionRecord> = {}): ExecutionRecord => ({
  state: "finished", id: `${group}-${node}-${attempt}`, job_name: job, group_ms: group, attempt, node_name: node,
  started_at: group, finished_at: group + 1, success, exit_code: success ? 0 : 1, output: "", output_truncated: false,
  trigger: attempt > 1 ? "retry" : "manual", ...extra,
});

describe("retryDelayMs", () => {
  it("is initial × multiplier^(attempt-1), capped at max (default 500ms, 1m, 2)", () => {
    const b = { initial: "500ms", max: "1m", multiplier: 2 };
    expect([1, 2, 3, 4, 5].map((a) => retryDelayMs(b, a))).toEqual([500, 1000, 2000, 4000, 8000]);
    expect(retryDelayMs(b, 8)).toBe(60_000); // 64 s capped
    expect(retryDelayMs(b, 50)).toBe(60_000);
  });

  it("takes Go durations and a constant multiplier; attempt < 1 counts as 1", () => {
    expect(retryDelayMs({ initial: "2s", max: "1h", multiplier: 1 }, 7)).toBe(2_000);
    expect(retryDelayMs({ initial: "1m30s", max: "2m", multiplier: 3 }, 2)).toBe(120_000);
    expect(retryDelayMs({ initial: "100ms", max: "1s", multiplier: 2 }, 0)).toBe(100);
  });

  it("throws on a malformed duration (Outcomes then falls back to 1 s)", () => {
    expect(() => retryDelayMs({ initial: "soon", max: "1m", multiplier: 2 }, 1)).toThrow();
  });
});

describe("retryTarget", () => {
  const live: Candidate[] = [
    { name: "w1", tags: { role: "worker" } },
    { name: "w2", tags: { role: "worker" } },
    { name: "s1", tags: {} },
  ];
  const aliveAll = () => true;

  it("without a cardinality: the same node while it is alive", () => {
    const j = spec("j", { tags: { role: "worker" } });
    const sel = (s: JobSpec) => selectTargets(s.tags, live);
    expect(retryTarget(j, "w1", sel, aliveAll)).toEqual({ nodes: ["w1"] });
  });

  it("without a cardinality, the failed node gone: the first node the selection gives", () => {
    const j = spec("j", { tags: { role: "worker" } });
    const sel = (s: JobSpec) => selectTargets(s.tags, live.filter((n) => n.name !== "w1"));
    expect(retryTarget(j, "w1", sel, (n) => n !== "w1")).toEqual({ nodes: ["w2"] });
  });

  it("nothing matches and the node is gone: the (empty) selection with its reason", () => {
    const j = spec("j", { tags: { role: "worker" } });
    const r = retryTarget(j, "w1", () => ({ nodes: [], reason: "no live node matches tags role=worker" }), () => false);
    expect(r.nodes).toEqual([]);
    expect(r.reason).toMatch(/no live node/);
  });

  it("with a cardinality and another matching node: that node", () => {
    const j = spec("j", { tags: { role: "worker:2" } });
    const sel = (s: JobSpec) => selectTargets(s.tags, live);
    expect(retryTarget(j, "w1", sel, aliveAll)).toEqual({ nodes: ["w2"] });
  });

  it("with a cardinality and no other matching node: the same node", () => {
    const j = spec("j", { tags: { role: "worker:1" } });
    const sel = (s: JobSpec) => selectTargets(s.tags, live.filter((n) => n.name !== "w2"));
    expect(retryTarget(j, "w1", sel, aliveAll)).toEqual({ nodes: ["w1"] });
  });

  // role:"worker:1" with two matching workers: the random pick of ONE node may be the failed node
  // itself. The retry must still go to the other matching node, whatever the pick.
  it("with cardinality 1 and two matching nodes: the other node even when the random pick is the failed one", () => {
    const j = spec("j", { tags: { role: "worker:1" } });
    for (const failed of ["w1", "w2"]) {
      for (const rnd of [0, 0.49, 0.51, 0.99]) {
        const sel = (s: JobSpec): Selection => selectTargets(s.tags, live, () => rnd);
        const picked = sel(j).nodes[0];
        const r = retryTarget(j, failed, sel, aliveAll);
        expect(r.nodes, `failed on ${failed}, random pick ${picked}`).toEqual([failed === "w1" ? "w2" : "w1"]);
      }
    }
  });
});

describe("Outcomes", () => {
  let jobs: Map<string, JobSpec>;
  let dispatched: { job: string; group: number; trigger: string; attempt: number; sel?: Selection }[];
  let deleted: string[];
  let notified: { job: string; attempt: number; group: number }[];
  let running: Set<string>;
  let o: Outcomes;

  const deps = (): OutcomeDeps => ({
    spec: (n) => jobs.get(n),
    children: (n) => [...jobs.values()].filter((j) => j.parent_job === n).map((j) => j.name).sort(),
    select: (s) => selectTargets(s.tags, [{ name: "n1", tags: { role: "a" } }, { name: "n2", tags: { role: "a" } }], () => 0),
    alive: () => true,
    dispatch: async (s, group, trigger, attempt, sel) => {
      dispatched.push({ job: s.name, group, trigger, attempt, ...(sel ? { sel } : {}) });
      return sel?.nodes ?? ["n1"];
    },
    isRunning: (n) => running.has(n),
    runnable: (s) => !s.disabled,
    notify: async (s, r) => void notified.push({ job: s.name, attempt: r.attempt, group: r.group_ms }),
    deleteJob: async (n) => void (deleted.push(n), jobs.delete(n)),
    log: silentLogger(),
    now: () => 1_000,
  });
  const add = (s: JobSpec) => jobs.set(s.name, s);
  const flush = () => vi.advanceTimersByTimeAsync(0);

  beforeEach(() => {
    vi.useFakeTimers();
    jobs = new Map();
    dispatched = [];
    deleted = [];
    notified = [];
    running = new Set();
    o = new Outcomes(deps());
    o.start();
  });
  afterEach(() => {
    o.stop();
    vi.useRealTimers();
  });

  it("a group launched on 2 nodes completes on its 2nd final result: children run once, trigger dependent, parent's group", async () => {
    add(spec("p"));
    add(spec("c", { parent_job: "p", schedule: "" }));
    o.launched("p", 5_000, ["n1", "n2"]);
    o.onFinished(rec("p", 5_000, "n1", 1, true));
    await flush();
    expect(dispatched).toEqual([]);
    o.onFinished(rec("p", 5_000, "n2", 1, true));
    await flush();
    expect(dispatched).toEqual([{ job: "c", group: 5_000, trigger: "dependent", attempt: 1 }]);
    // The next group of the parent runs the child again, once.
    o.launched("p", 6_000, ["n1"]);
    o.onFinished(rec("p", 6_000, "n1", 1, true));
    await flush();
    expect(dispatched.map((d) => d.group)).toEqual([5_000, 6_000]);
  });

  it("a group with a failed final result runs no child", async () => {
    add(spec("p"));
    add(spec("c", { parent_job: "p", schedule: "" }));
    o.launched("p", 5_000, ["n1", "n2"]);
    o.onFinished(rec("p", 5_000, "n1", 1, true));
    o.onFinished(rec("p", 5_000, "n2", 1, false));
    await vi.advanceTimersByTimeAsync(120_000);
    expect(dispatched).toEqual([]);
  });

  it("a group of unknown size (launched by an earlier leader) completes on its first final result", async () => {
    add(spec("p"));
    add(spec("c", { parent_job: "p", schedule: "" }));
    o.onFinished(rec("p", 7_000, "n1", 1, true));
    await flush();
    expect(dispatched).toEqual([{ job: "c", group: 7_000, trigger: "dependent", attempt: 1 }]);
  });

  it("disabled children and forbid children that are still running are skipped; the others run", async () => {
    add(spec("p"));
    add(spec("c1", { parent_job: "p", schedule: "", disabled: true }));
    add(spec("c2", { parent_job: "p", schedule: "", concurrency: "forbid" }));
    add(spec("c3", { parent_job: "p", schedule: "", concurrency: "forbid" }));
    running.add("c2");
    o.launched("p", 5_000, ["n1"]);
    o.onFinished(rec("p", 5_000, "n1", 1, true));
    await flush();
    expect(dispatched.map((d) => d.job)).toEqual(["c3"]);
  });

  it("retries a failed attempt with the job's backoff, then stops after retries+1 attempts; notifies once, at the end", async () => {
    add(spec("r", { retries: 2, retry_backoff: { initial: "1s", max: "10s", multiplier: 3 } }));
    o.launched("r", 5_000, ["n1"]);
    o.onFinished(rec("r", 5_000, "n1", 1, false));
    await vi.advanceTimersByTimeAsync(999);
    expect(dispatched).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(dispatched).toEqual([{ job: "r", group: 5_000, trigger: "retry", attempt: 2, sel: { nodes: ["n1"] } }]);
    o.onFinished(rec("r", 5_000, "n1", 2, false));
    await vi.advanceTimersByTimeAsync(2_999);
    expect(dispatched).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(dispatched[1]).toMatchObject({ group: 5_000, trigger: "retry", attempt: 3 });
    expect(notified).toEqual([]);
    o.onFinished(rec("r", 5_000, "n1", 3, false));
    await vi.advanceTimersByTimeAsync(120_000);
    expect(dispatched).toHaveLength(2);
    expect(notified).toEqual([{ job: "r", attempt: 3, group: 5_000 }]);
  });

  it("a success on retry completes the group: children run and the ephemeral parent is deleted", async () => {
    add(spec("p", { retries: 1, ephemeral: true, retry_backoff: { initial: "10ms", max: "1s", multiplier: 2 } }));
    add(spec("c", { parent_job: "p", schedule: "" }));
    o.launched("p", 5_000, ["n1"]);
    o.onFinished(rec("p", 5_000, "n1", 1, false));
    await vi.advanceTimersByTimeAsync(10);
    expect(dispatched).toEqual([{ job: "p", group: 5_000, trigger: "retry", attempt: 2, sel: { nodes: ["n1"] } }]);
    expect(deleted).toEqual([]);
    o.onFinished(rec("p", 5_000, "n1", 2, true));
    await flush();
    expect(dispatched[1]).toEqual({ job: "c", group: 5_000, trigger: "dependent", attempt: 1 });
    expect(deleted).toEqual(["p"]);
    expect(notified).toEqual([{ job: "p", attempt: 2, group: 5_000 }]);
  });

  it("an ephemeral job is deleted after its first successful group only, not after a failed one", async () => {
    add(spec("e", { ephemeral: true }));
    o.launched("e", 5_000, ["n1"]);
    o.onFinished(rec("e", 5_000, "n1", 1, false));
    await flush();
    expect(deleted).toEqual([]);
    o.launched("e", 6_000, ["n1", "n2"]);
    o.onFinished(rec("e", 6_000, "n1", 1, true));
    await flush();
    expect(deleted).toEqual([]);
    o.onFinished(rec("e", 6_000, "n2", 1, true));
    await flush();
    expect(deleted).toEqual(["e"]);
  });

  it("a malformed backoff falls back to a 1 s delay", async () => {
    const s = spec("m", { retries: 1 });
    add({ ...s, retry_backoff: { initial: "soon", max: "1m", multiplier: 2 } });
    o.onFinished(rec("m", 5_000, "n1", 1, false));
    await vi.advanceTimersByTimeAsync(999);
    expect(dispatched).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(dispatched).toHaveLength(1);
  });

  it("stop() drops pending retries; results seen while inactive or of another incarnation are ignored", async () => {
    add(spec("r", { retries: 3 }));
    o.onFinished(rec("r", 5_000, "n1", 1, false));
    o.stop();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(dispatched).toEqual([]);
    o.onFinished(rec("r", 5_000, "n1", 1, false)); // inactive
    o.start();
    add({ ...spec("r", { retries: 3 }), incarnation: "new" });
    o.onFinished(rec("r", 6_000, "n1", 1, false, { incarnation: "old" }));
    await vi.advanceTimersByTimeAsync(120_000);
    expect(dispatched).toEqual([]);
  });

  it("a job deleted before its retry is due is not retried", async () => {
    add(spec("r", { retries: 1 }));
    o.onFinished(rec("r", 5_000, "n1", 1, false));
    jobs.delete("r");
    await vi.advanceTimersByTimeAsync(120_000);
    expect(dispatched).toEqual([]);
  });
});
