// The launch protocol of the Scheduler (src/server/scheduler/scheduler.ts) on a real nats-server,
// with a real KvMirror/JobCatalog and a recording `dispatch` (the injection point): each instant
// claimed and dispatched once, and a split brain between two epochs never dispatching an instant
// twice, the older leader being fenced off by the newer one's claims.
import { describe, expect, it } from "vitest";
import { JobCatalog } from "../../src/server/jobs/catalog.js";
import { silentLogger } from "../../src/server/logger.js";
import { Scheduler, type TickClaim } from "../../src/server/scheduler/scheduler.js";
import { decodeJson } from "../../src/server/store/codec.js";
import type { JobKv } from "../../src/server/store/job-kv.js";
import { KvMirror } from "../../src/server/store/kv-mirror.js";
import { parseJobInput } from "../../src/shared/job.js";
import { until } from "../helpers/until.js";
import { useStoreEnv, type Dispatched, type Env } from "../helpers/store-env.js";

/** As src/server/agent.ts: launches are dispatched this long before their instant. */
const LEAD_MS = 200;

const { setup, cleanups } = useStoreEnv();

/** A scheduler wired as src/server/agent.ts wires it (own claims mirror), with switches for the lease and the running set. */
class Leader {
  readonly dispatched: Dispatched[] = [];
  readonly stale: string[] = [];
  holds = true;
  /** holdsLease() calls answered false: once one happened, every fire chained before it has ended. */
  refusals = 0;
  running = new Set<string>();
  readonly scheduler: Scheduler;
  private readonly mirror: KvMirror<TickClaim>;

  constructor(env: Env, readonly epoch: number) {
    this.mirror = new KvMirror<TickClaim>(env.ticks, env.nc, silentLogger(), "ticks");
    this.scheduler = new Scheduler({
      catalog: env.catalog,
      ticks: env.ticks,
      ticksMirror: this.mirror,
      holdsLease: () => this.holds || (this.refusals++, false),
      selectTargets: () => ({ nodes: ["worker-1"] }),
      dispatch: async (spec, instant, trigger, targets) => void this.dispatched.push({ job: spec.name, instant, trigger, targets }),
      isRunning: (job) => this.running.has(job),
      onStale: (reason) => void this.stale.push(reason),
      log: silentLogger(),
      leadMs: LEAD_MS,
    });
    cleanups.push(() => this.scheduler.stop(), () => this.mirror.stop());
  }

  async start(): Promise<void> {
    await this.mirror.start();
    await this.scheduler.start(this.epoch);
  }

  instants(job: string): number[] {
    return this.dispatched.filter((d) => d.job === job).map((d) => d.instant);
  }

  /** Stops firing (the lease is not confirmed) and waits until no fire is past its lease check. */
  async pause(): Promise<void> {
    this.holds = false;
    const before = this.refusals;
    await until(() => this.refusals > before, { message: `epoch ${this.epoch} to refuse a tick` });
  }
}

async function claimOf(ticks: JobKv, job: string): Promise<(TickClaim & { revision: number }) | null> {
  const e = await ticks.get(job);
  return e && e.operation === "PUT" ? { ...decodeJson<TickClaim>(e.value), revision: e.revision } : null;
}

const everySecond = (name: string, over: Record<string, unknown> = {}) =>
  parseJobInput({ name, schedule: "* * * * * *", executor_config: { command: "true" }, ...over });

describe("Scheduler claims", () => {
  it("claims and dispatches each instant exactly once, in order, then marks it dispatched", async () => {
    const env = await setup();
    await env.catalog.upsert(everySecond("tick"));
    const startedAt = Date.now();
    const l = new Leader(env, 7);
    await l.start();
    await until(() => l.dispatched.length >= 4, { message: "four dispatches" });
    await l.pause();
    l.scheduler.stop();

    const instants = l.instants("tick");
    expect(instants[0]).toBeGreaterThan(startedAt);
    for (let i = 1; i < instants.length; i++) expect(instants[i]! - instants[i - 1]!).toBe(1_000);
    expect(new Set(l.dispatched.map((d) => d.trigger))).toEqual(new Set(["schedule"]));
    expect(l.dispatched.every((d) => d.targets.nodes.join() === "worker-1")).toBe(true);
    expect(await claimOf(env.ticks, "tick")).toMatchObject({
      instant: instants.at(-1), epoch: 7, state: "dispatched", trigger: "schedule", targets: ["worker-1"],
    });
    expect(l.scheduler.stats).toMatchObject({ fired: instants.length, stale: 0 });
    expect(l.stale).toEqual([]);
  });

  it("two schedulers with different epochs (split brain) never both dispatch an instant", async () => {
    const env = await setup();
    await env.catalog.upsert(everySecond("shared"));
    const a = new Leader(env, 1);
    await a.start();
    await until(() => a.dispatched.length >= 2, { message: "the old leader to fire" });
    await a.pause(); // the old leader stalls (GC pause, SIGSTOP)...

    const b = new Leader(env, 2); // ...a new leader takes over...
    await b.start();
    await until(() => b.dispatched.length >= 2, { message: "the new leader to fire" });

    a.holds = true; // ...and the old one wakes up believing it still holds the lease
    await until(() => a.stale.length > 0, { message: "the old leader to find the newer epoch" });
    expect(a.stale[0]).toMatch(/newer epoch 2/);
    const target = a.dispatched.length + b.dispatched.length + 4;
    await until(() => a.dispatched.length + b.dispatched.length >= target, { message: "four more ticks to fire" });
    await Promise.all([a.pause(), b.pause()]);

    const fromA = new Set(a.instants("shared"));
    const both = b.instants("shared").filter((t) => fromA.has(t));
    expect(both).toEqual([]);
    expect(b.stale).toEqual([]);
    expect(a.scheduler.stats.stale).toBeGreaterThan(0);
    // Whether the old leader also dispatched nothing after the new one's first claim depends here
    // on who wins each tick's race; the next test shows the bug behind it deterministically.
  });

  // BUG (src/server/scheduler/scheduler.ts, Scheduler.claim): a stale scheduler is fenced only by
  // the revision of its cached claim. Once a failed update refreshed its cache (and it reported
  // onStale), its next claim is written at the newer leader's revision and succeeds: an old epoch
  // overwrites a newer epoch's claim and dispatches. The agent's onStale happens to stop the
  // scheduler synchronously, but the invariant "every write carries the epoch; a stale leader's
  // claim fails" does not hold in the scheduler itself.
  it("an older epoch that saw a newer epoch's claim never claims or dispatches again", async () => {
    const env = await setup();
    await env.catalog.upsert(everySecond("fenced"));
    const a = new Leader(env, 1);
    await a.start();
    await until(() => a.dispatched.length >= 1, { message: "the old leader to fire" });
    await a.pause();

    const b = new Leader(env, 2);
    await b.start();
    await until(() => b.dispatched.length >= 2, { message: "the new leader to fire" });
    await b.pause(); // the new leader stalls too: nobody but the old leader is firing now
    const lastOfB = Math.max(...b.instants("fenced"));
    const countA = a.dispatched.length;

    a.holds = true;
    await until(() => a.dispatched.length > countA || a.scheduler.stats.stale >= 3 || !a.scheduler.isActive, {
      message: "the old leader to be fenced off on three ticks (or to stop)",
    });
    expect(a.stale.length).toBeGreaterThan(0);
    expect(a.dispatched.slice(countA)).toEqual([]);
    const claim = await claimOf(env.ticks, "fenced");
    expect(claim).toMatchObject({ epoch: 2, instant: lastOfB });
  });
});
