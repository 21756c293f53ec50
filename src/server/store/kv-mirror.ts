// An in-memory copy of a KV bucket kept current by a watch. Every server
// keeps one of the jobs and status buckets, so reads never touch NATS and
// 10,000 jobs list in microseconds.
import { EventEmitter } from "node:events";
import { KvWatchInclude, type NatsConnection } from "nats";
import type { Logger } from "../logger.js";
import { decodeJson } from "./codec.js";
import type { JobKv, KvEntryLike, WatchLike } from "./job-kv.js";
import { watchForStall } from "./stall-watch.js";
import { withTimeout } from "./timeout.js";
import { retryWithBackoff } from "./retry.js";

export interface Versioned<T> {
  value: T;
  revision: number;
}

export type MirrorEvent<T> =
  | { op: "put"; key: string; value: T; revision: number; previous?: T }
  | { op: "delete"; key: string; revision: number; previous?: T };

export class KvMirror<T> {
  private readonly map = new Map<string, Versioned<T>>();
  private readonly events = new EventEmitter();
  private watcher: WatchLike | undefined;
  private stopped = false;
  private generation = 0;
  private readyPromise: Promise<void> | undefined;
  /** Highest revision the watch delivered. */
  private seenRevision = 0;
  private stopStallWatch: (() => void) | undefined;

  constructor(
    readonly kv: JobKv,
    private readonly nc: NatsConnection,
    private readonly log: Logger,
    private readonly name: string,
  ) {
    this.events.setMaxListeners(50);
  }

  /** Resolves once the current contents are loaded. */
  start(): Promise<void> {
    if (!this.readyPromise) {
      this.readyPromise = this.watch();
      void this.watchReconnects();
      this.stopStallWatch = watchForStall({
        name: `kv ${this.name}`,
        progress: () => this.seenRevision,
        behind: async () => (await this.kv.lastSeq()) > this.seenRevision,
        onStall: () => this.rewatch(),
        log: this.log,
      });
    }
    return this.readyPromise;
  }

  ready(): Promise<void> {
    return this.readyPromise ?? this.start();
  }

  stop(): void {
    this.stopped = true;
    this.stopStallWatch?.();
    this.watcher?.stop();
  }

  get(key: string): Versioned<T> | undefined {
    return this.map.get(key);
  }

  has(key: string): boolean {
    return this.map.has(key);
  }

  get size(): number {
    return this.map.size;
  }

  entries(): IterableIterator<[string, Versioned<T>]> {
    return this.map.entries();
  }

  values(): IterableIterator<Versioned<T>> {
    return this.map.values();
  }

  on(fn: (ev: MirrorEvent<T>) => void): () => void {
    this.events.on("change", fn);
    return () => this.events.off("change", fn);
  }

  /** Applies a write this node just made, so reads right after it see it. */
  applyLocal(key: string, value: T | undefined, revision: number): void {
    const cur = this.map.get(key);
    if (cur && cur.revision >= revision) return;
    if (value === undefined) {
      if (!cur) return;
      this.map.delete(key);
      this.events.emit("change", { op: "delete", key, revision, previous: cur.value } satisfies MirrorEvent<T>);
    } else {
      this.map.set(key, { value, revision });
      this.events.emit("change", { op: "put", key, value, revision, previous: cur?.value } satisfies MirrorEvent<T>);
    }
  }

  private async watch(): Promise<void> {
    const gen = ++this.generation;
    const seen = new Set<string>();
    let initialized = false;
    let resolveInit!: () => void;
    const init = new Promise<void>((r) => (resolveInit = r));
    const w = await withTimeout(this.kv.watch({
      include: KvWatchInclude.LastValue,
      initializedFn: () => {
        initialized = true;
        // Keys gone while we were not watching (after a reconnect) are deletions.
        for (const [key, cur] of [...this.map]) {
          if (!seen.has(key)) {
            this.map.delete(key);
            this.events.emit("change", { op: "delete", key, revision: cur.revision, previous: cur.value });
          }
        }
        resolveInit();
      },
    }), 5_000, `kv ${this.name} watch`, (late) => late.stop());
    this.watcher = w;
    void (async () => {
      try {
        for await (const e of w) {
          if (gen !== this.generation) break;
          if (!initialized) seen.add(e.key);
          if (e.revision > this.seenRevision) this.seenRevision = e.revision;
          this.apply(e);
        }
      } catch (err) {
        if (!this.stopped) this.log.warn({ err, bucket: this.name }, "kv watch ended");
      }
    })();
    await withTimeout(init, 30_000, `kv ${this.name} initial values`).catch((err) => {
      w.stop();
      throw err;
    });
  }

  private apply(e: KvEntryLike): void {
    if (e.operation === "PUT") {
      let value: T;
      try {
        value = decodeJson<T>(e.value);
      } catch (err) {
        this.log.warn({ err, bucket: this.name, key: e.key }, "skipping undecodable kv entry");
        return;
      }
      this.applyLocal(e.key, value, e.revision);
    } else {
      this.applyLocal(e.key, undefined, e.revision);
    }
  }

  /** After a reconnect (e.g. the embedded nats-server was restarted) re-read the bucket. */
  private async watchReconnects(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (this.stopped) return;
      if (s.type === "reconnect") await this.rewatch();
    }
  }

  private async rewatch(): Promise<void> {
    this.watcher?.stop();
    await retryWithBackoff(() => this.watch(), {
      what: "re-watch", log: this.log, fields: { bucket: this.name }, wanted: () => !this.stopped, baseMs: 250, maxMs: 5_000,
    });
  }
}
