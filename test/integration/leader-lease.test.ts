// The leader lease (src/server/leader/lease.ts) against a real nats-server: exactly one leader,
// epochs that only grow across takeovers, release on stop, a paused leader that stops acting
// before its lease can have expired, and a restarted node taking over its own previous lease.
import { connect, type KV, type NatsConnection } from "nats";
import { afterEach, describe, expect, it } from "vitest";
import { LeaderLease, defaultLeaseTimings, type LeaseTimings, type LeaseValue } from "../../src/server/leader/lease.js";
import { silentLogger } from "../../src/server/logger.js";
import { decodeJson, encodeJson } from "../../src/server/store/codec.js";
import { BUCKET, LEADER_KEY } from "../../src/server/store/names.js";
import { DEFAULT_STORE_OPTIONS, ensureStore } from "../../src/server/store/setup.js";
import { startNatsServer } from "../helpers/nats.js";
import { until } from "../helpers/until.js";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await Promise.resolve().then(fn).catch(() => undefined);
});

async function setup(ttlMs: number): Promise<{ url: string; kv: KV }> {
  const server = await startNatsServer();
  cleanups.push(() => server.stop());
  const nc = await conn(server.url);
  const buckets = await ensureStore(nc.jetstream(), await nc.jetstreamManager(), { ...DEFAULT_STORE_OPTIONS, leaseTtlMs: ttlMs });
  return { url: server.url, kv: buckets.leader };
}

async function conn(url: string): Promise<NatsConnection> {
  const nc = await connect({ servers: url });
  cleanups.push(() => nc.close());
  return nc;
}

/** A competitor with its own connection, recording what the lease tells it. */
class Node {
  readonly acquired: number[] = [];
  readonly lost: string[] = [];
  lease!: LeaderLease;
  /** When set, the lease's clock reads this instead of Date.now(). */
  fixedNow: number | undefined;
  onAcquire: (epoch: number) => void = () => undefined;

  static async start(url: string, name: string, timings: LeaseTimings, wrap: (kv: KV) => KV = (kv) => kv): Promise<Node> {
    const n = new Node();
    const kv = wrap(await (await conn(url)).jetstream().views.kv(BUCKET.leader, { bindOnly: true }));
    n.lease = new LeaderLease(kv, name, timings, {
      onAcquire: (epoch) => {
        n.acquired.push(epoch);
        n.onAcquire(epoch);
      },
      onLose: (reason) => void n.lost.push(reason),
    }, silentLogger(), () => n.fixedNow ?? Date.now());
    n.lease.start();
    cleanups.push(() => n.lease.stop());
    return n;
  }
}

/** Test access to the lease's timer, to simulate a process that stops running (GC pause, SIGSTOP). */
interface LeaseInternals {
  schedule(ms: number): void;
  timer: NodeJS.Timeout | undefined;
  busy: boolean;
  confirmedAt: number;
}
const internals = (l: LeaderLease) => l as unknown as LeaseInternals;

async function pause(l: LeaderLease): Promise<void> {
  const i = internals(l);
  i.schedule = () => undefined;
  clearTimeout(i.timer);
  await until(() => !i.busy, { message: "the in-flight lease write to finish" });
}

function resume(l: LeaderLease): void {
  const i = internals(l);
  delete (i as Partial<LeaseInternals>).schedule; // back to the prototype's method
  i.schedule(0);
}

async function leaseValue(kv: KV): Promise<(LeaseValue & { revision: number }) | null> {
  const e = await kv.get(LEADER_KEY);
  return e && e.operation === "PUT" ? { ...decodeJson<LeaseValue>(e.value), revision: e.revision } : null;
}

/**
 * A KV whose `method` writes reach the server but whose replies are held back while the gate is
 * armed: a lease write "in flight" at a chosen moment.
 */
function gatedKv(method: "create" | "update") {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const state = { armed: false, landed: 0, release: () => release() };
  const wrap = (kv: KV): KV =>
    new Proxy(kv, {
      get(target, prop) {
        const v = Reflect.get(target, prop, target) as unknown;
        if (typeof v !== "function") return v;
        if (prop !== method) return v.bind(target);
        return async (...args: unknown[]) => {
          const armed = state.armed;
          const r = await (v as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          if (armed) {
            state.landed++;
            await gate;
          }
          return r;
        };
      },
    });
  return { state, wrap };
}

const leaders = (nodes: Node[]) => nodes.filter((n) => n.lease.isLeader);

describe("LeaderLease", () => {
  it("exactly one of several competitors leads, and keeps leading while it renews", async () => {
    const { url, kv } = await setup(1_500);
    const t = defaultLeaseTimings(1_500);
    const nodes = await Promise.all(["a", "b", "c"].map((n) => Node.start(url, n, t)));
    const [leader] = await until(() => (leaders(nodes).length ? leaders(nodes) : null), { message: "a leader" });
    const firstRevision = (await leaseValue(kv))!.revision;
    // several renewals later, nothing changed hands
    await until(async () => (await leaseValue(kv))!.revision >= firstRevision + 3, { message: "three renewals" });
    expect(leaders(nodes)).toEqual([leader]);
    expect(nodes.flatMap((n) => n.acquired)).toEqual([leader!.lease.epoch]);
    expect(leader!.lease.holds()).toBe(true);
    const v = (await leaseValue(kv))!;
    expect(v.epoch).toBe(leader!.lease.epoch);
    for (const n of nodes) {
      if (n !== leader) {
        expect(n.lease.holds()).toBe(false);
        expect(n.lease.leader?.node).toBe(v.node);
      }
    }
  });

  it("stop() releases the lease: another node takes over long before the TTL, with a higher epoch each time", async () => {
    const ttl = 60_000; // the lease cannot expire during this test: every takeover is a release
    const { url } = await setup(ttl);
    const t = defaultLeaseTimings(ttl);
    const a = await Node.start(url, "a", t);
    await until(() => a.lease.isLeader, { message: "a to lead" });
    const b = await Node.start(url, "b", t);
    await until(() => b.lease.leader?.node === "a", { message: "b to see a as leader" });
    expect(b.lease.isLeader).toBe(false);

    await a.lease.stop();
    expect(a.lease.isLeader).toBe(false);
    expect(a.lost).toEqual(["shutting down"]);
    await until(() => b.lease.isLeader, { message: "b to take over after a released" });
    expect(b.acquired[0]).toBeGreaterThan(a.acquired[0]!);

    const a2 = await Node.start(url, "a", t); // a new incarnation of a
    await until(() => a2.lease.leader?.node === "b", { message: "a2 to see b as leader" });
    await b.lease.stop();
    await until(() => a2.lease.isLeader, { message: "a2 to take over after b released" });
    const epochs = [a.acquired[0]!, b.acquired[0]!, a2.acquired[0]!];
    expect(epochs).toEqual([...epochs].sort((x, y) => x - y));
    expect(new Set(epochs).size).toBe(3);
  });

  it("a paused leader stops holding before its TTL runs out by its own clock; the other takes over after the TTL", async () => {
    const ttl = 1_500;
    const t = defaultLeaseTimings(ttl);
    const { url, kv } = await setup(ttl);
    const a = await Node.start(url, "a", t);
    await until(() => a.lease.isLeader, { message: "a to lead" });
    const b = await Node.start(url, "b", t);
    await until(() => b.lease.leader?.node === "a", { message: "b to follow a" });
    let aHeldAtTakeover: boolean | undefined;
    let takeoverAt = 0;
    b.onAcquire = () => {
      aHeldAtTakeover = a.lease.holds();
      takeoverAt = Date.now();
    };

    await pause(a.lease);
    const confirmed = internals(a.lease).confirmedAt;
    // By a's clock: it holds until the safety margin before the TTL, then no more, although
    // the TTL measured from its last confirmed write has not run out yet.
    a.fixedNow = confirmed + ttl - t.safetyMs - 1;
    expect(a.lease.holds()).toBe(true);
    a.fixedNow = confirmed + ttl - t.safetyMs;
    expect(a.lease.holds()).toBe(false);
    a.fixedNow = confirmed + ttl - 1;
    expect(a.lease.holds()).toBe(false);
    expect(a.lease.isLeader).toBe(true); // it has not noticed anything: it is paused
    a.fixedNow = undefined;

    await until(() => b.lease.isLeader, { message: "b to take over once a's lease expired" });
    expect(b.acquired[0]).toBeGreaterThan(a.acquired[0]!);
    expect(aHeldAtTakeover).toBe(false);
    // a's last write happened after `confirmed`, and the entry lives a full TTL after it
    expect(takeoverAt).toBeGreaterThanOrEqual(confirmed + ttl);
    expect((await leaseValue(kv))!.node).toBe("b");

    // a wakes up: its renew fails at once and it does not come back while b renews
    resume(a.lease);
    await until(() => a.lost.length > 0, { message: "a to notice it lost the lease" });
    expect(a.lost).toEqual([expect.stringMatching(/taken by another node/)]);
    expect(a.lease.isLeader).toBe(false);
    expect(a.lease.holds()).toBe(false);
    const rev = (await leaseValue(kv))!.revision;
    await until(async () => (await leaseValue(kv))!.revision >= rev + 2, { message: "b to renew twice more" });
    expect(a.lease.isLeader).toBe(false);
    expect(a.acquired).toHaveLength(1);
    expect(b.lease.isLeader).toBe(true);
  });

  it("a leader whose lease was overwritten loses leadership at its next renew", async () => {
    const t = defaultLeaseTimings(1_500);
    const { url, kv } = await setup(1_500);
    const a = await Node.start(url, "a", t);
    await until(() => a.lease.isLeader, { message: "a to lead" });
    await kv.put(LEADER_KEY, encodeJson({ node: "intruder", epoch: 1, acquired_at: Date.now() } satisfies LeaseValue));
    await until(() => a.lost.length > 0, { message: "a to lose" });
    expect(a.lost).toEqual([expect.stringMatching(/taken by another node/)]);
    expect(a.lease.holds()).toBe(false);
  });

  // The lease used to let a node take over an entry bearing its own name at once (a previous
  // incarnation). lease.ts now deliberately waits for such an entry to expire, as for anyone
  // else's ("a read right after a restart is the least trustworthy one"): this pins that.
  it("a node finding its own name on the lease (a previous incarnation) waits for it to expire, then acquires with a higher epoch", async () => {
    const ttl = 1_500;
    const { url, kv } = await setup(ttl);
    const putAt = Date.now();
    const oldRevision = await kv.put(LEADER_KEY, encodeJson({ node: "a", epoch: 1, acquired_at: putAt } satisfies LeaseValue));
    const a = await Node.start(url, "a", defaultLeaseTimings(ttl));
    let acquiredAt = 0;
    a.onAcquire = () => (acquiredAt = Date.now());
    await until(() => a.lease.leader?.node === "a" && a.lease.leader.epoch === 1, { message: "a to see its old lease" });
    expect(a.lease.isLeader).toBe(false);
    expect(a.lease.holds()).toBe(false);
    await until(() => a.lease.isLeader, { message: "a to acquire once the old entry expired" });
    expect(acquiredAt).toBeGreaterThanOrEqual(putAt + ttl);
    expect(a.lease.epoch).toBeGreaterThan(oldRevision);
    expect(await leaseValue(kv)).toMatchObject({ node: "a", epoch: a.lease.epoch });
  });

  // BUG (src/server/leader/lease.ts, stop() and tryAcquire()): stop() does not wait for an
  // in-flight tick. An acquire that completes after stop() returned makes the stopped node
  // leader (onAcquire runs: a shutting-down agent establishes leadership) and nobody renews nor
  // releases the lease, so the cluster has no working leader for a whole TTL.
  it("stop() during an in-flight acquire neither leads nor keeps the lease", async () => {
    const ttl = 60_000;
    const { url, kv } = await setup(ttl);
    const g = gatedKv("create");
    g.state.armed = true;
    const a = await Node.start(url, "a", defaultLeaseTimings(ttl), g.wrap);
    await until(() => g.state.landed > 0, { message: "a's create to reach the server" });
    const stopping = a.lease.stop();
    setImmediate(g.state.release); // after stop()'s synchronous part and microtasks, whatever they are
    await stopping;
    await until(() => !internals(a.lease).busy, { message: "a's acquire attempt to end" });
    expect(a.lease.isLeader).toBe(false);
    expect(a.lost.length).toBe(a.acquired.length); // never acquired, or acquired and gave it up
    await until(async () => (await leaseValue(kv)) === null, { message: "the lease to be free", timeoutMs: 5_000 });
  });

  // BUG (same place): stop() releases with `delete(previousSeq: this.revision)`; when a renew is
  // in flight the server already has a newer revision, the delete fails (logged at debug) and the
  // lease stays held until the TTL: no fast hand-over on shutdown.
  it("stop() during an in-flight renew still releases the lease", async () => {
    const ttl = 60_000;
    const { url, kv } = await setup(ttl);
    const g = gatedKv("update");
    const a = await Node.start(url, "a", { ttlMs: ttl, renewMs: 200, pollMs: 100, safetyMs: 10_000 }, g.wrap);
    await until(() => a.lease.isLeader, { message: "a to lead" });
    g.state.armed = true;
    await until(() => g.state.landed > 0, { message: "a renew to reach the server" });
    const stopping = a.lease.stop();
    setImmediate(g.state.release);
    await stopping;
    await until(() => !internals(a.lease).busy, { message: "the renew to end" });
    expect(a.lease.isLeader).toBe(false);
    await until(async () => (await leaseValue(kv)) === null, { message: "the lease to be released", timeoutMs: 5_000 });
  });
});
