// Membership over NATS: every node publishes a heartbeat each second; server
// nodes keep the table. Liveness is derived from "last seen", so a node that
// dies without a word is declared failed within `failAfterMs`.
import type { NatsConnection, Subscription } from "nats";
import { MEMBER_STATUS, type Heartbeat, type Member, type MemberStatusText } from "../../shared/member.js";
import type { Logger } from "../logger.js";
import { decodeJson, encodeJson } from "../store/codec.js";
import { SUBJECT } from "../store/names.js";

export interface MemberState {
  hb: Heartbeat;
  lastSeen: number;
  left: boolean;
}

export interface MemberTimings {
  heartbeatMs: number;
  failAfterMs: number;
  /** Forget failed/left members after this long. */
  forgetAfterMs: number;
}

export const DEFAULT_MEMBER_TIMINGS: MemberTimings = { heartbeatMs: 1_000, failAfterMs: 5_000, forgetAfterMs: 24 * 3600_000 };

export function memberStatus(m: MemberState, now: number, t: MemberTimings): MemberStatusText {
  if (m.left) return "left";
  if (m.hb.leaving) return "leaving";
  return now - m.lastSeen <= t.failAfterMs ? "alive" : "failed";
}

export function toMemberJson(m: MemberState, now: number, t: MemberTimings, leader: string | undefined): Member {
  const statusText = memberStatus(m, now, t);
  return {
    id: m.hb.name,
    Name: m.hb.name,
    Addr: m.hb.addr,
    Port: m.hb.port,
    // Dkron's serf tags, under the node's own tags (a user's "role" tag wins).
    Tags: { role: "dkron", server: String(m.hb.server), version: m.hb.version, dc: "dc1", ...m.hb.tags },
    Status: MEMBER_STATUS[statusText],
    ProtocolMin: 1,
    ProtocolMax: 5,
    ProtocolCur: 2,
    DelegateMin: 2,
    DelegateMax: 5,
    DelegateCur: 4,
    statusText,
    role: m.hb.server ? "server" : "worker",
    leader: leader === m.hb.name,
    last_seen: new Date(m.lastSeen).toISOString(),
    version: m.hb.version,
  };
}

/** Publishes this node's heartbeat. */
export class Heartbeater {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly self: () => Heartbeat,
    private readonly t: MemberTimings,
  ) {}

  start(): void {
    this.beat();
    this.timer = setInterval(() => this.beat(), this.t.heartbeatMs);
    this.timer.unref();
  }

  beat(): void {
    try {
      this.nc.publish(SUBJECT.heartbeat, encodeJson(this.self()));
    } catch {
      // Disconnected: the next beat goes out once the client has reconnected.
    }
  }

  async leave(): Promise<void> {
    clearInterval(this.timer);
    try {
      this.nc.publish(SUBJECT.leave, encodeJson({ ...this.self(), leaving: true }));
      await this.nc.flush();
    } catch {
      // best effort: the others will declare us failed instead
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** The member table kept by server nodes. */
export class MemberTable {
  private readonly members = new Map<string, MemberState>();
  private subs: Subscription[] = [];
  private listeners = new Set<(name: string, status: MemberStatusText) => void>();
  private sweeper: NodeJS.Timeout | undefined;
  private lastStatus = new Map<string, MemberStatusText>();

  constructor(
    private readonly nc: NatsConnection,
    readonly timings: MemberTimings,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    this.subs.push(this.nc.subscribe(SUBJECT.heartbeat, { callback: (err, msg) => !err && this.onBeat(msg.data, false) }));
    this.subs.push(this.nc.subscribe(SUBJECT.leave, { callback: (err, msg) => !err && this.onBeat(msg.data, true) }));
    this.sweeper = setInterval(() => this.sweep(), 500);
    this.sweeper.unref();
  }

  stop(): void {
    for (const s of this.subs) s.unsubscribe();
    this.subs = [];
    clearInterval(this.sweeper);
  }

  onChange(fn: (name: string, status: MemberStatusText) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Records a heartbeat (also used to register this node itself without a round trip). */
  observe(hb: Heartbeat, left = false): void {
    this.members.set(hb.name, { hb, lastSeen: this.now(), left });
    this.notify(hb.name);
  }

  private onBeat(data: Uint8Array, left: boolean): void {
    try {
      this.observe(decodeJson<Heartbeat>(data), left);
    } catch (err) {
      this.log.debug({ err }, "bad heartbeat");
    }
  }

  private sweep(): void {
    const now = this.now();
    for (const [name, m] of this.members) {
      if (memberStatus(m, now, this.timings) !== "alive" && now - m.lastSeen > this.timings.forgetAfterMs) {
        this.members.delete(name);
        this.lastStatus.delete(name);
        continue;
      }
      this.notify(name);
    }
  }

  private notify(name: string): void {
    const m = this.members.get(name);
    if (!m) return;
    const s = memberStatus(m, this.now(), this.timings);
    if (this.lastStatus.get(name) === s) return;
    this.lastStatus.set(name, s);
    for (const fn of this.listeners) fn(name, s);
  }

  get(name: string): MemberState | undefined {
    return this.members.get(name);
  }

  /**
   * Nothing listens on the node's launch subject any more ("no responders"):
   * treat it as failed now rather than after the heartbeat timeout. Its next
   * heartbeat, if it is alive after all, makes it alive again.
   */
  suspect(name: string): void {
    const m = this.members.get(name);
    if (!m || m.left) return;
    m.lastSeen = Math.min(m.lastSeen, this.now() - this.timings.failAfterMs - 1);
    this.notify(name);
  }

  isAlive(name: string): boolean {
    const m = this.members.get(name);
    return !!m && memberStatus(m, this.now(), this.timings) === "alive";
  }

  alive(): MemberState[] {
    const now = this.now();
    return [...this.members.values()].filter((m) => memberStatus(m, now, this.timings) === "alive");
  }

  all(): MemberState[] {
    return [...this.members.values()];
  }

  json(leader: string | undefined): Member[] {
    const now = this.now();
    return this.all()
      .map((m) => toMemberJson(m, now, this.timings, leader))
      .sort((a, b) => (a.Name < b.Name ? -1 : 1));
  }
}
