// Runs the jobs dispatched to this node: acks the launch at once, records
// `started` in JetStream with a deterministic Nats-Msg-Id *before* running
// anything, and runs only if JetStream did not report that record as a
// duplicate (a launch that already happened). The result goes to JetStream
// directly through the outbox, so a leader change loses nothing.
import { headers, type JetStreamClient, type Msg, type NatsConnection, type Subscription } from "nats";
import { OUTPUT_LIMIT, executionId, type ExecutionRecord } from "../../shared/execution.js";
import type { RunningExecution } from "../../shared/member.js";
import type { Logger } from "../logger.js";
import type { Executor } from "../executors/types.js";
import { decodeJson, encodeJson } from "../store/codec.js";
import { OUTPUT_OFFSET_HEADER, SUBJECT, executionMsgId } from "../store/names.js";
import { OutputBuffer } from "./output-buffer.js";
import { applyProcessors } from "../processors/index.js";
import type { Outbox } from "./outbox.js";
import type { LaunchAck, LaunchRequest } from "./protocol.js";

interface Running {
  info: RunningExecution;
  abort: AbortController;
  output: OutputBuffer;
  done: Promise<void>;
}

export interface RunnerHooks {
  /** Called with the instant the executor was started (for fire-lag metrics). */
  onStart?(req: LaunchRequest, startedAt: number): void;
  /** Called when a launch arrives, with how long before its start instant (negative: late). */
  onReceived?(req: LaunchRequest, slackMs: number): void;
}

export class Runner {
  private subs: Subscription[] = [];
  private readonly running = new Map<string, Running>();
  private accepting = true;

  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly node: string,
    private readonly executors: ReadonlyMap<string, Executor>,
    private readonly outbox: Outbox,
    private readonly log: Logger,
    private readonly hooks: RunnerHooks = {},
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    this.subs.push(this.nc.subscribe(SUBJECT.agentRun(this.node), { callback: (err, msg) => !err && this.onLaunch(msg) }));
    // Any server's API asks the running node for live output, or to kill.
    this.subs.push(this.nc.subscribe(SUBJECT.agentOutput(this.node), { callback: (err, msg) => {
      if (err) return;
      const { id } = decodeJson<{ id: string }>(msg.data);
      const r = this.running.get(id);
      msg.respond(encodeJson(r ? { output: r.output.toString(), total: r.output.total } : { output: null }));
    } }));
    this.subs.push(this.nc.subscribe(SUBJECT.agentKill(this.node), { callback: (err, msg) => {
      if (err) return;
      const { id, reason } = decodeJson<{ id: string; reason?: string }>(msg.data);
      msg.respond(encodeJson({ killed: this.kill(id, reason ?? "killed") }));
    } }));
  }

  runningExecutions(): RunningExecution[] {
    return [...this.running.values()].map((r) => r.info);
  }

  /** Live output of a running execution (the last 256 KB so far). */
  partialOutput(id: string): string | undefined {
    return this.running.get(id)?.output.toString();
  }

  /** Live output with the byte offset it reaches, so a follower can skip chunks it already has. */
  partialOutputAt(id: string): { output: string; total: number } | undefined {
    const r = this.running.get(id);
    return r && { output: r.output.toString(), total: r.output.total };
  }

  private onLaunch(msg: Msg): void {
    let req: LaunchRequest;
    try {
      req = decodeJson<LaunchRequest>(msg.data);
    } catch (err) {
      msg.respond(encodeJson({ accepted: false, node: this.node, error: "malformed launch" } satisfies LaunchAck));
      return;
    }
    if (!this.accepting) {
      msg.respond(encodeJson({ accepted: false, node: this.node, error: "node is shutting down" } satisfies LaunchAck));
      return;
    }
    msg.respond(encodeJson({ accepted: true, node: this.node } satisfies LaunchAck));
    void this.launch(req).catch((err) => this.log.error({ err, job: req.job.name }, "launch failed"));
  }

  /** Starts one execution locally (after the dedupe gate). */
  async launch(req: LaunchRequest): Promise<void> {
    const job = req.job;
    if (req.start_at) this.hooks.onReceived?.(req, req.start_at - this.now());
    const startedAt = Math.max(this.now(), Math.round(req.start_at ?? 0));
    const id = executionId(startedAt, this.node, req.attempt);
    const base: ExecutionRecord = {
      state: "started",
      id,
      job_name: job.name,
      group_ms: req.group_ms,
      attempt: req.attempt,
      node_name: this.node,
      started_at: startedAt,
      finished_at: null,
      success: false,
      exit_code: null,
      output: "",
      output_truncated: false,
      trigger: req.trigger,
      ...(job.incarnation ? { incarnation: job.incarnation } : {}),
    };
    const msgId = executionMsgId(job.name, req.group_ms, this.node, req.attempt, "started");
    const ack = await this.publishWithRetry(SUBJECT.execution(job.name, "started"), encodeJson(base), msgId);
    if (ack === "failed") {
      this.log.error({ job: job.name, group: req.group_ms }, "could not record the start of an execution; not running it");
      return;
    }
    if (ack === "duplicate") {
      this.log.info({ job: job.name, group: req.group_ms, attempt: req.attempt }, "launch already happened; not running it again");
      return;
    }
    const executor = this.executors.get(job.executor);
    const abort = new AbortController();
    const output = new OutputBuffer(OUTPUT_LIMIT);
    const outSubject = SUBJECT.output(id);
    let resolveDone!: () => void;
    const entry: Running = {
      info: { id, job: job.name, group_ms: req.group_ms, attempt: req.attempt, started_at: startedAt },
      abort,
      output,
      done: new Promise((r) => (resolveDone = r)),
    };
    this.running.set(id, entry);
    let actualStart = startedAt;
    const result = executor
      ? await executor.run({
          job,
          executionId: id,
          signal: abort.signal,
          startAt: req.start_at,
          onStarted: (at) => {
            actualStart = at;
            this.hooks.onStart?.(req, at);
          },
          onOutput: (chunk) => {
            const offset = output.total;
            output.push(chunk);
            try {
              const h = headers();
              h.set(OUTPUT_OFFSET_HEADER, String(offset));
              this.nc.publish(outSubject, chunk, { headers: h });
            } catch {
              // live output is best effort; the final output is in the record
            }
          },
        })
      : { success: false, exitCode: null, reason: `executor ${JSON.stringify(job.executor)} is not available on node ${this.node}` };
    let text = output.toString();
    if (result.reason) text += `${text && !text.endsWith("\n") ? "\n" : ""}[dkron] ${result.reason}\n`;
    let finished: ExecutionRecord = {
      ...base,
      started_at: Math.round(actualStart),
      state: "finished",
      finished_at: this.now(),
      success: result.success,
      exit_code: result.exitCode,
      output: text,
      output_truncated: output.truncated,
      ...(result.reason ? { reason: result.reason } : {}),
    };
    // Processors (log, files, syslog) run where the job ran, before the result is stored.
    if (Object.keys(job.processors).length) finished = await applyProcessors(job, finished, this.log, { reportingNode: this.node });
    this.outbox.add({
      msgId: executionMsgId(job.name, req.group_ms, this.node, req.attempt, "finished"),
      subject: SUBJECT.execution(job.name, "finished"),
      data: encodeJson(finished),
    });
    this.running.delete(id);
    resolveDone();
  }

  private async publishWithRetry(subject: string, data: Uint8Array, msgID: string): Promise<"ok" | "duplicate" | "failed"> {
    // A replicated stream whose leader died stalls writes for ~5–7 s: ride it out.
    const deadline = this.now() + 15_000;
    for (let attempt = 0; ; attempt++) {
      try {
        const ack = await this.js.publish(subject, data, { msgID, timeout: 5_000 });
        return ack.duplicate ? "duplicate" : "ok";
      } catch (err) {
        if (this.now() >= deadline) {
          this.log.warn({ err: (err as Error).message }, "publish failed");
          return "failed";
        }
        await new Promise((r) => setTimeout(r, Math.min(1_000, 50 * 2 ** attempt)));
      }
    }
  }

  /** Kills a running execution (its whole process group). */
  kill(id: string, reason = "killed"): boolean {
    const r = this.running.get(id);
    if (!r) return false;
    r.abort.abort(reason);
    return true;
  }

  /** Stops taking launches and waits (bounded) for running executions to finish. */
  async drain(timeoutMs: number): Promise<number> {
    this.accepting = false;
    this.subs[0]?.unsubscribe();
    const pending = [...this.running.values()].map((r) => r.done);
    if (pending.length === 0) return 0;
    this.log.info({ running: pending.length, timeoutMs }, "waiting for running executions");
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(pending), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    return this.running.size;
  }
}
