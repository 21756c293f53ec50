// The leader folds finished executions into KV `dkron-job-status` (single
// writer) through a durable consumer, so a new leader continues where the old
// one stopped. Each status carries the last stream sequence it applied, which
// makes a redelivery after a crash harmless.
import { AckPolicy, DeliverPolicy, type ConsumerMessages, type JetStreamClient, type JetStreamManager } from "nats";
import type { ExecutionRecord } from "../../shared/execution.js";
import { emptyStatus, type JobSpec, type JobStatus } from "../../shared/job.js";
import type { Logger } from "../logger.js";
import { decodeJson, encodeJson, isWrongLastSequence } from "../store/codec.js";
import type { KvMirror } from "../store/kv-mirror.js";
import { EXECUTIONS_STREAM, STATUS_CONSUMER, SUBJECT } from "../store/names.js";
import { foldStatus } from "./status-fold.js";
import { watchForStall } from "../store/stall-watch.js";
import { withTimeout } from "../store/timeout.js";
import { retryWithBackoff } from "../store/retry.js";

export class StatusWriter {
  private messages: ConsumerMessages | undefined;
  private active = false;
  private listeners = new Set<(r: ExecutionRecord) => void>();
  private processed = 0;
  private stopStallWatch: (() => void) | undefined;
  private generation = 0;

  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly statuses: KvMirror<JobStatus>,
    private readonly jobs: KvMirror<JobSpec>,
    private readonly log: Logger,
  ) {}

  /** Called (on the leader) with each finished execution after its status is written. */
  onFinished(fn: (r: ExecutionRecord) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Starts folding; retries in the background while the store is not ready (e.g. mid-failover). */
  start(): void {
    this.active = true;
    void retryWithBackoff(() => this.open(), { what: "opening the job status consumer", log: this.log, wanted: () => this.active });
  }

  private async open(): Promise<void> {
    try {
      await this.jsm.consumers.info(EXECUTIONS_STREAM, STATUS_CONSUMER);
    } catch (err) {
      if (!/consumer not found/i.test((err as Error).message)) throw err;
      await this.jsm.consumers.add(EXECUTIONS_STREAM, {
        durable_name: STATUS_CONSUMER,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        filter_subject: SUBJECT.finishedAll,
        max_ack_pending: 1000,
        ack_wait: 30_000_000_000,
      });
    }
    if (!this.active) return;
    await this.consume();
    this.stopStallWatch?.();
    this.stopStallWatch = watchForStall({
      name: "job status",
      progress: () => this.processed,
      behind: async () => (await this.jsm.consumers.info(EXECUTIONS_STREAM, STATUS_CONSUMER)).num_pending > 0,
      onStall: async () => {
        this.messages?.stop();
        await this.consume();
      },
      log: this.log,
    });
  }

  private async consume(): Promise<void> {
    const gen = ++this.generation;
    const consumer = await this.js.consumers.get(EXECUTIONS_STREAM, STATUS_CONSUMER);
    const messages = await withTimeout(consumer.consume({ max_messages: 500, expires: 5_000 }), 5_000, "job status consumer", (late) => late.stop());
    this.messages = messages;
    void (async () => {
      for await (const m of messages) {
        if (!this.active || gen !== this.generation) break;
        this.processed++;
        try {
          const r = decodeJson<ExecutionRecord>(m.data);
          await this.apply(r, m.seq);
          m.ack();
          for (const fn of this.listeners) fn(r);
        } catch (err) {
          this.log.warn({ err, seq: m.seq }, "status update failed; will be redelivered");
          m.nak(1_000);
        }
      }
    })().catch((err) => this.active && this.log.warn({ err }, "status consumer ended"));
  }

  private async apply(r: ExecutionRecord, seq: number): Promise<void> {
    const spec = this.jobs.get(r.job_name)?.value;
    if (!spec) return; // the job was deleted meanwhile
    if (r.incarnation && spec.incarnation && r.incarnation !== spec.incarnation) return; // an earlier job of that name
    for (let attempt = 0; ; attempt++) {
      const cur = this.statuses.get(r.job_name);
      const next = foldStatus(cur?.value ?? emptyStatus(), r, seq);
      if (cur && next === cur.value) return;
      try {
        const data = encodeJson(next);
        const rev = cur ? await this.statuses.kv.update(r.job_name, data, cur.revision) : await this.statuses.kv.create(r.job_name, data);
        this.statuses.applyLocal(r.job_name, next, rev);
        return;
      } catch (err) {
        if (!isWrongLastSequence(err) || attempt >= 3) throw err;
        const e = await this.statuses.kv.get(r.job_name);
        if (e?.operation === "PUT") this.statuses.applyLocal(r.job_name, decodeJson<JobStatus>(e.value), e.revision);
      }
    }
  }

  stop(): void {
    this.active = false;
    this.stopStallWatch?.();
    this.messages?.stop();
  }
}
