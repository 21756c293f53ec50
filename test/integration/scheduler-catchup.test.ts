// What a new Scheduler (src/server/scheduler/scheduler.ts) does at start() on a real nats-server,
// with a real KvMirror/JobCatalog and a recording `dispatch`: re-dispatch of an instant a dead
// leader left `claimed`, catch-up per policy (none / last / all), and concurrency forbid writing a
// `skipped` claim instead of dispatching.
import { describe, expect, it } from "vitest";
import { JobCatalog } from "../../src/server/jobs/catalog.js";
import { silentLogger } from "../../src/server/logger.js";
import { Scheduler, type TickClaim } from "../../src/server/scheduler/scheduler.js";
import { decodeJson, encodeJson } from "../../src/server/store/codec.js";
import type { JobKv } from "../../src/server/store/job-kv.js";
import { KvMirror } from "../../src/server/store/kv-mirror.js";
import { parseSchedule } from "../../src/shared/cron/index.js";
import { parseJobInput } from "../../src/shared/job.js";
import { until } from "../helpers/until.js";
import { useStoreEnv, type Dispatched, type Env } from "../helpers/store-env.js";

const { setup, cleanups } = useStoreEnv();

interface Opts {
  now?: () => number;
  isRunning?: (job: string) => boolean;
  /** Load claims from a KvMirror as src/server/agent.ts does (default), or from the bucket. */
  mirror?: boolean;
}

/** A scheduler wired as src/server/agent.ts wires it, recording its dispatches; started by `start`. */
function scheduler(env: Env, opts: Opts = {}) {
  const dispatched: Dispatched[] = [];
  const stale: string[] = [];
  const mirror = opts.mirror === false ? undefined : new KvMirror<TickClaim>(env.ticks, env.nc, silentLogger(), "ticks");
  const s = new Scheduler({
    catalog: env.catalog,
    ticks: env.ticks,
    ...(mirror ? { ticksMirror: mirror } : {}),
    holdsLease: () => true,
    selectTargets: () => ({ nodes: ["fresh-pick"] }),
    dispatch: async (spec, instant, trigger, targets) => void dispatched.push({ job: spec.name, instant, trigger, targets }),
    isRunning: opts.isRunning ?? (() => false),
    onStale: (reason) => void stale.push(reason),
    log: silentLogger(),
    leadMs: 200,
    ...(opts.now ? { now: opts.now } : {}),
  });
  cleanups.push(() => s.stop(), () => mirror?.stop());
  const start = async (epoch: number) => {
    await mirror?.start();
    await s.start(epoch);
  };
  const of = (job: string) => dispatched.filter((d) => d.job === job).map(({ targets: _t, ...d }) => d);
  return { s, start, dispatched, stale, of };
}

async function claimOf(ticks: JobKv, job: string): Promise<(TickClaim & { revision: number }) | null> {
  const e = await ticks.get(job);
  return e && e.operation === "PUT" ? { ...decodeJson<TickClaim>(e.value), revision: e.revision } : null;
}

const putClaim = (ticks: JobKv, job: string, claim: TickClaim) => ticks.create(job, encodeJson(claim));

const spec = (name: string, schedule: string, over: Record<string, unknown> = {}) =>
  parseJobInput({ name, schedule, executor_config: { command: "true" }, ...over });

const HOUR = 3_600_000;

describe("Scheduler start: re-dispatch", () => {
  it.each([
    ["from the claims mirror (as the agent does)", true],
    ["from the bucket", false],
  ])("re-dispatches an instant a previous leader left claimed, loading claims %s", async (_how, mirror) => {
    const env = await setup();
    await env.catalog.upsert(spec("half_done", "@manually"));
    await env.catalog.upsert(spec("no_targets", "@manually"));
    const instant = Date.now() - 30_000;
    const old = await putClaim(env.ticks, "half_done", { instant, epoch: 3, state: "claimed", trigger: "catchup", targets: ["n7", "n8"] });
    // a claim written before claims recorded their targets: the targets are chosen afresh
    await putClaim(env.ticks, "no_targets", { instant, epoch: 3, state: "claimed", trigger: "schedule" });

    const a = scheduler(env, { mirror });
    await a.start(9);
    expect(a.s.stats.redispatched).toBe(2);
    for (const job of ["half_done", "no_targets"]) {
      await until(async () => (await claimOf(env.ticks, job))?.state === "dispatched", { message: `${job} to be marked dispatched` });
    }
    expect(a.dispatched.filter((d) => d.job === "half_done")).toEqual([
      { job: "half_done", instant, trigger: "catchup", targets: { nodes: ["n7", "n8"] } },
    ]);
    expect(a.dispatched.filter((d) => d.job === "no_targets")).toEqual([
      { job: "no_targets", instant, trigger: "schedule", targets: { nodes: ["fresh-pick"] } },
    ]);
    const claim = await claimOf(env.ticks, "half_done");
    expect(claim).toMatchObject({ instant, epoch: 9, state: "dispatched", trigger: "catchup", targets: ["n7", "n8"] });
    expect(claim!.revision).toBeGreaterThan(old);
    a.s.stop();

    // The next leader finds it dispatched: nothing to re-dispatch.
    const b = scheduler(env, { mirror });
    await b.start(10);
    expect(b.s.stats.redispatched).toBe(0);
    expect(b.s.stats.caughtUp).toBe(0);
  });

  it("leaves dispatched and skipped claims alone", async () => {
    const env = await setup();
    await env.catalog.upsert(spec("done", "@manually"));
    await env.catalog.upsert(spec("skipped", "@manually"));
    await putClaim(env.ticks, "done", { instant: Date.now() - 5_000, epoch: 1, state: "dispatched", trigger: "schedule" });
    await putClaim(env.ticks, "skipped", { instant: Date.now() - 5_000, epoch: 1, state: "skipped", trigger: "schedule" });
    const a = scheduler(env);
    await a.start(2);
    expect(a.s.stats.redispatched).toBe(0);
    expect(a.s.queued("done")).toBeUndefined();
  });
});

describe("Scheduler start: catch-up", () => {
  it("none fires nothing, last fires the most recent missed instant once, all fires every missed instant in order", async () => {
    const env = await setup();
    const now = Date.now();
    // hourly, at a minute half an hour away from now, so no regular tick can interfere
    const hourly = `0 ${(new Date(now).getUTCMinutes() + 30) % 60} * * * *`;
    const past = parseSchedule(hourly, { jobName: "x" }).between(now - 6 * HOUR, now, 10);
    expect(past).toHaveLength(6);
    const H = past.at(-1)!; // the latest instant <= now
    await env.catalog.upsert(spec("c_none", hourly, { catchup: "none", catchup_window: "24h" }));
    await env.catalog.upsert(spec("c_last", hourly, { catchup: "last" }));
    await env.catalog.upsert(spec("c_all", hourly, { catchup: "all", catchup_window: "24h" }));
    await env.catalog.upsert(spec("c_new", hourly)); // never claimed: nothing was missed
    const lastRun = { instant: past[0]!, epoch: 1, state: "dispatched", trigger: "schedule" } as const;
    const noneRev = await putClaim(env.ticks, "c_none", lastRun);
    await putClaim(env.ticks, "c_last", lastRun);
    await putClaim(env.ticks, "c_all", lastRun);

    const a = scheduler(env, { now: () => now });
    await a.start(4);
    expect(a.s.stats.caughtUp).toBe(1 + 5);
    const caughtUp = async (job: string) => {
      const c = await claimOf(env.ticks, job);
      return c?.instant === H && c.state === "dispatched";
    };
    await until(() => caughtUp("c_all"), { message: "c_all to catch up to the last instant" });
    await until(() => caughtUp("c_last"), { message: "c_last to catch up" });

    expect(a.of("c_none")).toEqual([]);
    expect((await claimOf(env.ticks, "c_none"))!.revision).toBe(noneRev);
    expect(a.of("c_last")).toEqual([{ job: "c_last", instant: H, trigger: "catchup" }]);
    expect(await claimOf(env.ticks, "c_last")).toMatchObject({ instant: H, epoch: 4, state: "dispatched", trigger: "catchup" });
    expect(a.of("c_all")).toEqual(past.slice(1).map((instant) => ({ job: "c_all", instant, trigger: "catchup" })));
    expect(a.of("c_new")).toEqual([]);
    expect(await claimOf(env.ticks, "c_new")).toBeNull();
    // and every job is armed for its next regular instant
    for (const j of ["c_none", "c_last", "c_all", "c_new"]) expect(a.s.queued(j)).toBe(H + HOUR);
  });

  it("last fires nothing when the last missed instant is outside the window", async () => {
    const env = await setup();
    const day = 86_400_000;
    const D = Math.floor(Date.now() / day) * day;
    await env.catalog.upsert(spec("daily", "0 0 0 * * *", { catchup: "last", catchup_window: "1h" }));
    await putClaim(env.ticks, "daily", { instant: D - 3 * day, epoch: 1, state: "dispatched", trigger: "schedule" });
    const a = scheduler(env, { now: () => D + 12 * HOUR }); // the last instant, D, is 12 h old
    await a.start(2);
    expect(a.s.stats.caughtUp).toBe(0);
    expect(a.s.queued("daily")).toBe(D + day);
  });
});

describe("Scheduler: concurrency forbid", () => {
  it("writes a skipped claim and dispatches nothing while the job is running, and fires again once it is not", async () => {
    const env = await setup();
    await env.catalog.upsert(spec("busy", "* * * * * *", { concurrency: "forbid" }));
    await env.catalog.upsert(spec("free", "* * * * * *", { concurrency: "allow" }));
    let running = true;
    const a = scheduler(env, { isRunning: () => running });
    await a.start(5);

    await until(async () => (await claimOf(env.ticks, "busy"))?.state === "skipped", { message: "a skipped claim" });
    const skipped = (await claimOf(env.ticks, "busy"))!;
    expect(skipped).toMatchObject({ epoch: 5, state: "skipped", trigger: "schedule" });
    expect(a.of("busy")).toEqual([]);
    expect(a.s.stats.skipped).toBeGreaterThan(0);
    // allow ignores the running set
    await until(() => a.of("free").length > 0, { message: "the allow job to fire" });

    running = false;
    await until(() => a.of("busy").length > 0, { message: "the forbid job to fire once nothing runs" });
    expect(a.of("busy")[0]!.instant).toBeGreaterThan(skipped.instant);
    expect(a.of("busy")[0]!.trigger).toBe("schedule");
  });
});
