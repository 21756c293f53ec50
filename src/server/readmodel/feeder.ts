// Feeds the SQLite read model from DKRON_EXECUTIONS with an ordered consumer
// that starts after the last sequence the database has applied, so the
// position and the rows move together in one transaction.
import { EventEmitter } from "node:events";
import { DeliverPolicy, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type NatsConnection } from "nats";
import type { ExecutionRecord } from "../../shared/execution.js";
import type { Logger } from "../logger.js";
import { decodeJson } from "../store/codec.js";
import { EXECUTIONS_STREAM } from "../store/names.js";
import type { ReadModelDb } from "./db.js";
import { watchForStall } from "../store/stall-watch.js";
import { withTimeout } from "../store/timeout.js";
import { retryWithBackoff } from "../store/retry.js";

const CONSUME_TIMEOUT_MS = 5_000;

export class ReadModelFeeder {
  private messages: ConsumerMessages | undefined;
  private stopped = false;
  private readonly events = new EventEmitter();
  private batch: ExecutionRecord[] = [];
  private batchSeq = 0;
  private flushTimer: NodeJS.Timeout | undefined;
  private generation = 0;
  private stopStallWatch: (() => void) | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly db: ReadModelDb,
    private readonly log: Logger,
  ) {
    this.events.setMaxListeners(100);
  }

  /** Called with every record once it is in the database. */
  onRecord(fn: (r: ExecutionRecord) => void): () => void {
    this.events.on("record", fn);
    return () => this.events.off("record", fn);
  }

  async start(): Promise<void> {
    // A store that was wiped and recreated starts its sequences again: start over.
    const info = await this.jsm.streams.info(EXECUTIONS_STREAM);
    if (this.db.lastSeq() > info.state.last_seq) {
      this.log.warn({ dbSeq: this.db.lastSeq(), streamSeq: info.state.last_seq }, "read model is ahead of the stream; rebuilding");
      this.db.reset();
    }
    await this.consume();
    void this.watchReconnects();
    this.stopStallWatch = watchForStall({
      name: "read model",
      progress: () => this.db.lastSeq(),
      behind: async () => (await this.jsm.streams.info(EXECUTIONS_STREAM)).state.last_seq > this.db.lastSeq(),
      onStall: () => this.resubscribe(),
      log: this.log,
    });
  }

  private async consume(): Promise<void> {
    const gen = ++this.generation;
    const from = this.db.lastSeq() + 1;
    const consumer = await this.js.consumers.get(EXECUTIONS_STREAM, {
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: from,
    });
    const messages = await withTimeout(consumer.consume({ max_messages: 1000, expires: 5_000 }), CONSUME_TIMEOUT_MS,
      "read model consumer", (late) => late.stop());
    this.messages = messages;
    void (async () => {
      try {
        for await (const m of messages) {
          if (gen !== this.generation) break;
          let r: ExecutionRecord;
          try {
            r = decodeJson<ExecutionRecord>(m.data);
          } catch (err) {
            this.log.warn({ err, seq: m.seq }, "skipping undecodable execution record");
            this.batchSeq = m.seq;
            continue;
          }
          this.batch.push(r);
          this.batchSeq = m.seq;
          if (this.batch.length >= 500) this.flush();
          else this.flushTimer ??= setTimeout(() => this.flush(), 5);
        }
      } catch (err) {
        if (!this.stopped) this.log.warn({ err }, "read model consumer ended");
      }
    })();
  }

  private flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.batch.length === 0) return;
    const batch = this.batch;
    this.batch = [];
    this.db.applyBatch(batch, this.batchSeq);
    for (const r of batch) this.events.emit("record", r);
  }

  private async watchReconnects(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (this.stopped) return;
      if (s.type === "reconnect") await this.resubscribe();
    }
  }

  private async resubscribe(): Promise<void> {
    this.flush();
    this.messages?.stop();
    await retryWithBackoff(() => this.consume(), {
      what: "read model re-subscribe", log: this.log, wanted: () => !this.stopped, baseMs: 250, maxMs: 5_000,
    });
  }

  stop(): void {
    this.stopped = true;
    this.stopStallWatch?.();
    this.messages?.stop();
    this.flush();
  }
}
