// What the leader does when an execution finishes (it sees each one once,
// through the job-status consumer): retry a failed attempt with backoff —
// on another matching node when there is one (Dkron #1585) — notify after the
// final attempt, and once every target of an execution group is final, run
// the job's children if the whole group succeeded, or delete an ephemeral job.
import type { ExecutionRecord } from "../../shared/execution.js";
import type { JobSpec, RetryBackoff } from "../../shared/job.js";
import { parseGoDuration } from "../../shared/cron/index.js";
import type { Logger } from "../logger.js";
import type { Selection } from "./targets.js";
import { parseTagValue } from "./targets.js";

export function retryDelayMs(b: RetryBackoff, failedAttempt: number): number {
  const initial = parseGoDuration(b.initial);
  const max = parseGoDuration(b.max);
  return Math.min(max, initial * b.multiplier ** Math.max(0, failedAttempt - 1));
}

/** Where attempt k+1 runs: for a job with a cardinality (value:N), another matching node when one exists. */
export function retryTarget(spec: JobSpec, failedNode: string, select: (spec: JobSpec) => Selection,
  alive: (node: string) => boolean, random: () => number = Math.random): Selection {
  const hasCardinality = Object.values(spec.tags).some((v) => parseTagValue(v).count !== undefined);
  const fresh = select(spec);
  if (hasCardinality) {
    // Every matching node, not just N of them: then pick one that is not the one that failed.
    const all = select({ ...spec, tags: Object.fromEntries(Object.entries(spec.tags).map(([k, v]) => [k, parseTagValue(v).value])) });
    const others = all.nodes.filter((n) => n !== failedNode);
    if (others.length) return { nodes: [others[Math.floor(random() * others.length)]!] };
  }
  if (alive(failedNode)) return { nodes: [failedNode] };
  return fresh.nodes.length ? { nodes: [fresh.nodes[0]!] } : fresh;
}

export interface OutcomeDeps {
  spec(name: string): JobSpec | undefined;
  children(name: string): string[];
  select(spec: JobSpec): Selection;
  alive(node: string): boolean;
  dispatch(spec: JobSpec, groupMs: number, trigger: ExecutionRecord["trigger"], attempt: number, sel?: Selection): Promise<string[]>;
  isRunning(job: string): boolean;
  runnable(spec: JobSpec, at: number): boolean;
  notify?(spec: JobSpec, r: ExecutionRecord, group: ExecutionRecord[]): Promise<void>;
  deleteJob(name: string): Promise<void>;
  log: Logger;
  now?: () => number;
}

interface Group {
  expected: number | undefined;
  finals: ExecutionRecord[];
  at: number;
}

export class Outcomes {
  private readonly groups = new Map<string, Group>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Retries scheduled by this leader, by job/group/node/attempt: one retry per failed attempt. */
  private readonly retrying = new Set<string>();
  private active = false;
  private readonly now: () => number;

  constructor(private readonly d: OutcomeDeps) {
    this.now = d.now ?? Date.now;
  }

  start(): void {
    this.active = true;
  }

  /** Leadership lost: pending retries are dropped (the next leader does not know of them). */
  stop(): void {
    this.active = false;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.retrying.clear();
    this.groups.clear();
  }

  /** A group was launched on `nodes` (an empty list still yields one failed record). */
  launched(job: string, groupMs: number, nodes: string[]): void {
    const key = `${job}/${groupMs}`;
    const g = this.groups.get(key);
    if (g) g.expected = Math.max(g.expected ?? 0, Math.max(1, nodes.length));
    else this.groups.set(key, { expected: Math.max(1, nodes.length), finals: [], at: this.now() });
    this.prune();
  }

  onFinished(r: ExecutionRecord): void {
    if (!this.active) return;
    const spec = this.d.spec(r.job_name);
    if (!spec || (r.incarnation && spec.incarnation && r.incarnation !== spec.incarnation)) return;
    const final = r.success || r.attempt >= spec.retries + 1;
    if (!final) {
      this.scheduleRetry(spec, r);
      return;
    }
    const key = `${r.job_name}/${r.group_ms}`;
    const g = this.groups.get(key) ?? { expected: undefined, finals: [], at: this.now() };
    this.groups.set(key, g);
    g.finals.push(r);
    if (this.d.notify) void this.d.notify(spec, r, g.finals).catch((err) => this.d.log.warn({ err }, "notification failed"));
    // A group launched by an earlier leader has an unknown size: its first final result completes it.
    if (g.finals.length < (g.expected ?? 1)) return;
    this.groups.delete(key);
    if (!g.finals.every((x) => x.success)) return;
    void this.groupSucceeded(spec, r.group_ms).catch((err) => this.d.log.error({ err, job: spec.name }, "after-success actions failed"));
  }

  private async groupSucceeded(spec: JobSpec, groupMs: number): Promise<void> {
    for (const name of this.d.children(spec.name)) {
      const child = this.d.spec(name);
      if (!child || !this.d.runnable(child, this.now())) continue;
      if (child.concurrency === "forbid" && this.d.isRunning(name)) {
        this.d.log.info({ job: name, parent: spec.name }, "not running dependent job: still running (concurrency forbid)");
        continue;
      }
      // The child's group is the parent's: a repeat after a leader change is refused as a duplicate.
      const nodes = await this.d.dispatch(child, groupMs, "dependent", 1);
      this.launched(name, groupMs, nodes);
    }
    if (spec.ephemeral) {
      this.d.log.info({ job: spec.name }, "ephemeral job succeeded: deleting it");
      await this.d.deleteJob(spec.name);
    }
  }

  private scheduleRetry(spec: JobSpec, r: ExecutionRecord): void {
    const key = `${r.job_name}/${r.group_ms}/${r.node_name}/${r.attempt}`;
    if (this.retrying.has(key)) return;
    this.retrying.add(key);
    if (this.retrying.size > 100_000) this.retrying.clear();
    let delay: number;
    try {
      delay = retryDelayMs(spec.retry_backoff, r.attempt);
    } catch {
      delay = 1_000;
    }
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.active) return;
      const cur = this.d.spec(spec.name);
      if (!cur) return;
      const sel = retryTarget(cur, r.node_name, this.d.select, this.d.alive);
      this.d.log.info({ job: cur.name, group: r.group_ms, attempt: r.attempt + 1, nodes: sel.nodes }, "retrying a failed execution");
      void this.d.dispatch(cur, r.group_ms, "retry", r.attempt + 1, sel)
        .catch((err) => this.d.log.error({ err, job: cur.name }, "retry failed"));
    }, delay);
    this.timers.add(t);
  }

  private prune(): void {
    if (this.groups.size < 10_000) return;
    const cutoff = this.now() - 3_600_000;
    for (const [k, g] of this.groups) if (g.at < cutoff) this.groups.delete(k);
  }
}
