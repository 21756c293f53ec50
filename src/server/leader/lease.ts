// Leader lease in KV `dkron-leader` (DESIGN.md, Leadership): acquire with
// create, renew with update at the known revision. The bucket's max_age is
// the lease TTL, so a dead leader's entry vanishes by itself. A failed renew
// means leadership is lost now; `holds()` lets the scheduler refuse to claim
// a tick once the lease may have expired by our own clock (a paused process
// that wakes up must not act before it has renewed).
import type { KV } from "nats";
import type { Logger } from "../logger.js";
import { LEADER_KEY } from "../store/names.js";
import { decodeJson, encodeJson, isWrongLastSequence } from "../store/codec.js";
import { withTimeout } from "../store/timeout.js";

export interface LeaseValue {
  node: string;
  epoch: number;
  acquired_at: number;
}

export interface LeaseTimings {
  ttlMs: number;
  renewMs: number;
  /** How often a follower checks whether the lease is free. */
  pollMs: number;
  /** Stop acting as leader this long before the TTL runs out by our clock. */
  safetyMs: number;
}

/**
 * Timings (DESIGN.md: a dead leader replaced fast, a healthy one not flapping
 * when the store stalls). With the default TTL of 2 s: renew every 500 ms,
 * followers poll every 100 ms, and a leader stops launching 400 ms before its
 * lease could expire by its own clock. A kill -9 of the leader is noticed when
 * its entry expires, 1.5–2 s later. A store stall (a replicated stream's leader
 * died: writes fail for ~5–7 s on nats-server 2.9.10) only suspends the
 * incumbent — renew failures other than a lost compare-and-set keep it leader
 * and it resumes as soon as a renew lands; followers coming out of a stall wait
 * one renew period before taking a lease that expired meanwhile, so the
 * incumbent re-acquires first.
 */
export const defaultLeaseTimings = (ttlMs: number): LeaseTimings => ({
  ttlMs,
  renewMs: Math.max(100, Math.floor(ttlMs / 4)),
  pollMs: Math.max(50, Math.min(100, Math.floor(ttlMs / 10))),
  safetyMs: Math.max(100, Math.floor(ttlMs / 5)),
});

export interface LeaseEvents {
  onAcquire(epoch: number): Promise<void> | void;
  onLose(reason: string): Promise<void> | void;
}

export class LeaderLease {
  private revision = 0;
  private epochValue = 0;
  private leading = false;
  /** Start time of the last successful write of the lease (acquire or renew). */
  private confirmedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private current: LeaseValue | null = null;
  private busy = false;
  private inflight: Promise<unknown> | undefined;
  /** When a follower's last read of the lease failed (the store stalled). */
  private lastReadFailedAt = -Infinity;

  constructor(
    private readonly kv: KV,
    private readonly node: string,
    private readonly timings: LeaseTimings,
    private readonly events: LeaseEvents,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  get isLeader(): boolean {
    return this.leading;
  }

  get epoch(): number {
    return this.epochValue;
  }

  /** The leader as last seen (ourselves when leading). */
  get leader(): LeaseValue | null {
    return this.current;
  }

  /** True while the lease is certainly still ours by our own clock. */
  holds(): boolean {
    return this.leading && this.now() < this.confirmedAt + this.timings.ttlMs - this.timings.safetyMs;
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops competing; releases the lease when held so another node takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    // Let an acquire or renew in flight land first, so we release what we really hold.
    if (this.inflight) await withTimeout(this.inflight, this.timings.ttlMs, "lease step").catch(() => undefined);
    if (this.leading) {
      await this.lose("shutting down");
      try {
        await this.kv.delete(LEADER_KEY, { previousSeq: this.revision });
      } catch (err) {
        this.log.debug({ err }, "lease release failed (it will expire)");
      }
    }
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), ms);
  }

  private async tick(): Promise<void> {
    if (this.busy || this.stopped) return;
    this.busy = true;
    try {
      // Bounded: a request whose answer never comes must not freeze the lease loop.
      const step = this.leading ? this.renew() : this.tryAcquire();
      this.inflight = step;
      await withTimeout(step, this.timings.ttlMs + 1_000, "lease step").catch(() => undefined);
    } finally {
      this.busy = false;
      this.schedule(this.leading && this.holds() ? this.timings.renewMs : this.timings.pollMs);
    }
  }

  private async tryAcquire(): Promise<void> {
    const started = this.now();
    try {
      let e;
      try {
        e = await this.kv.get(LEADER_KEY);
      } catch (err) {
        this.lastReadFailedAt = this.now();
        throw err;
      }
      const existing = e && e.operation === "PUT" ? decodeJson<LeaseValue>(e.value) : null;
      // Someone holds it — possibly an earlier incarnation of this very node
      // (killed and restarted): wait for it to expire rather than take it over,
      // since a read right after a restart is the least trustworthy one.
      if (existing) {
        this.current = existing;
        return;
      }
      if (!existing && this.now() - this.lastReadFailedAt < 2 * this.timings.renewMs) {
        // Just out of a store stall: give the incumbent a renew period to come back first.
        return;
      }
      const value: LeaseValue = { node: this.node, epoch: 0, acquired_at: started };
      const rev = await this.kv.create(LEADER_KEY, encodeJson(value));
      if (this.stopped) {
        // stop() came while the create was in flight: give it straight back.
        await this.kv.delete(LEADER_KEY, { previousSeq: rev }).catch(() => undefined);
        return;
      }
      // The epoch is the revision of the acquiring write: it only grows.
      value.epoch = rev;
      this.revision = await this.kv.update(LEADER_KEY, encodeJson(value), rev);
      this.epochValue = rev;
      this.confirmedAt = started;
      this.current = value;
      this.leading = true;
      this.log.info({ epoch: rev }, "acquired leadership");
      // Establishing may take longer than a renew period (thousands of jobs):
      // run it beside the renew loop, which keeps the lease meanwhile.
      void (async () => {
        try {
          await this.events.onAcquire(rev);
        } catch (err) {
          if (this.epochValue !== rev || !this.leading) return;
          this.log.error({ err }, "establishing leadership failed; stepping down");
          const held = this.revision;
          await this.lose("establish failed");
          await this.kv.delete(LEADER_KEY, { previousSeq: held }).catch(() => undefined);
        }
      })();
    } catch (err) {
      if (!isWrongLastSequence(err)) this.log.debug({ err }, "lease acquire attempt failed");
    }
  }

  private async renew(): Promise<void> {
    const started = this.now();
    try {
      const value: LeaseValue = { node: this.node, epoch: this.epochValue, acquired_at: this.current?.acquired_at ?? started };
      this.revision = await this.kv.update(LEADER_KEY, encodeJson(value), this.revision);
      this.confirmedAt = started;
    } catch (err) {
      if (isWrongLastSequence(err)) {
        await this.lose("lease taken by another node, or expired");
      } else {
        // The store did not answer: stay leader but suspended (holds() turns
        // false by the clock, so nothing launches) until a renew lands or the
        // compare-and-set tells us someone else took over.
        this.log.warn({ err: (err as Error).message, holds: this.holds() }, "lease renew failed; retrying");
      }
    }
  }

  /** Gives up leadership now (a newer leader was detected); keeps competing. */
  async stepDown(reason: string): Promise<void> {
    await this.lose(reason);
  }

  private async lose(reason: string): Promise<void> {
    if (!this.leading) return;
    this.leading = false;
    this.current = null;
    this.log.warn({ reason, epoch: this.epochValue }, "lost leadership");
    try {
      await this.events.onLose(reason);
    } catch (err) {
      this.log.error({ err }, "revoking leadership failed");
    }
  }
}
