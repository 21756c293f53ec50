// Leader side of dispatch: pick the targets, send each a launch request on
// `dkron.agent.<node>.run` and wait for its ack. A launch nobody can take is
// recorded as a failed execution that says why, so it is never silent.
import type { JetStreamClient, NatsConnection } from "nats";
import type { ExecutionRecord } from "../../shared/execution.js";
import { executionId } from "../../shared/execution.js";
import type { JobSpec } from "../../shared/job.js";
import type { Logger } from "../logger.js";
import type { MemberTable } from "../cluster/members.js";
import { decodeJson, encodeJson } from "../store/codec.js";
import { SUBJECT, executionMsgId } from "../store/names.js";
import type { LaunchAck, LaunchRequest } from "../runner/protocol.js";
import { selectTargets, type Selection } from "./targets.js";

export interface DispatcherOptions {
  ackTimeoutMs: number;
  /** Node name used on records of launches that reached no node. */
  leaderName: string;
}

export class Dispatcher {
  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly members: MemberTable,
    private readonly opts: DispatcherOptions,
    private readonly log: Logger,
    private readonly epoch: () => number,
    private readonly now: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {}

  /** The nodes a launch of this job goes to now. */
  select(spec: JobSpec): Selection {
    const live = this.members.alive().map((m) => ({ name: m.hb.name, tags: m.hb.tags }));
    return selectTargets(spec.tags, live, this.random);
  }

  /**
   * Launches one execution group. `sel` fixes the targets (a re-dispatch after
   * a leader change goes to the nodes the claim recorded, not a new random pick).
   */
  async dispatch(spec: JobSpec, groupMs: number, trigger: ExecutionRecord["trigger"], attempt = 1, startAt?: number,
    sel: Selection = this.select(spec)): Promise<string[]> {
    if (sel.nodes.length === 0) {
      await this.recordFailure(spec, groupMs, "", attempt, trigger, sel.reason ?? "no target node");
      return [];
    }
    const req: LaunchRequest = { job: spec, group_ms: groupMs, attempt, trigger, epoch: this.epoch(), ...(startAt ? { start_at: startAt } : {}) };
    const data = encodeJson(req);
    await Promise.all(
      sel.nodes.map(async (node) => {
        let error: string;
        try {
          const reply = await this.nc.request(SUBJECT.agentRun(node), data, { timeout: this.opts.ackTimeoutMs });
          const ack = decodeJson<LaunchAck>(reply.data);
          if (ack.accepted) {
            this.track(spec.name, `${groupMs}/${node}/${attempt}`, node);
            return;
          }
          error = ack.error ?? "refused";
        } catch (err) {
          error = (err as Error).message;
          if ((err as { code?: string }).code === "503") {
            error = "no runner is listening on it (node down)";
            this.members.suspect(node);
          }
        }
        this.log.warn({ job: spec.name, node, error }, "node did not accept the launch");
        await this.recordFailure(spec, groupMs, node, attempt, trigger, `node ${node} did not accept the launch: ${error}`);
      }),
    );
    return sel.nodes;
  }

  /** Launches acknowledged by a node whose finish has not been seen yet, per job (for forbid). */
  private readonly inflight = new Map<string, Map<string, { node: string; at: number }>>();

  private track(job: string, key: string, node: string): void {
    let m = this.inflight.get(job);
    if (!m) this.inflight.set(job, (m = new Map()));
    m.set(key, { node, at: this.now() });
  }

  /** The leader saw this execution finish. */
  finished(r: ExecutionRecord): void {
    const m = this.inflight.get(r.job_name);
    if (!m) return;
    m.delete(`${r.group_ms}/${r.node_name}/${r.attempt}`);
    if (m.size === 0) this.inflight.delete(r.job_name);
  }

  /** Whether a launch of the job this leader dispatched may still be running on a live node. */
  hasInflight(job: string): boolean {
    const m = this.inflight.get(job);
    if (!m) return false;
    for (const [key, v] of m) {
      if (!this.members.isAlive(v.node)) m.delete(key);
    }
    return m.size > 0;
  }

  /**
   * Publishes a finished, failed execution for a launch that could not happen.
   * For a launch a node did not acknowledge in time, the failure first takes
   * the launch's `started` msg-id: if the node did start it after all, that
   * is a duplicate and nothing more is written (its own result stands);
   * otherwise the node's late start is refused by its dedupe gate.
   */
  async recordFailure(spec: JobSpec, groupMs: number, node: string, attempt: number,
    trigger: ExecutionRecord["trigger"], reason: string): Promise<void> {
    const now = this.now();
    const nodeName = node || this.opts.leaderName;
    const r: ExecutionRecord = {
      state: "finished",
      id: executionId(now, nodeName, attempt),
      job_name: spec.name,
      group_ms: groupMs,
      attempt,
      node_name: nodeName,
      started_at: now,
      finished_at: now,
      success: false,
      exit_code: null,
      output: `[dkron] ${reason}\n`,
      output_truncated: false,
      reason,
      trigger,
      ...(spec.incarnation ? { incarnation: spec.incarnation } : {}),
    };
    try {
      if (node) {
        const fence = await this.js.publish(SUBJECT.execution(spec.name, "started"), encodeJson(r), {
          msgID: executionMsgId(spec.name, groupMs, node, attempt, "started"),
        });
        if (fence.duplicate) {
          this.log.info({ job: spec.name, node, group: groupMs }, "the node started the launch after all; keeping its result");
          this.track(spec.name, `${groupMs}/${node}/${attempt}`, node);
          return;
        }
      }
      await this.js.publish(SUBJECT.execution(spec.name, "finished"), encodeJson(r), {
        msgID: executionMsgId(spec.name, groupMs, node || "-", attempt, "finished"),
      });
    } catch (err) {
      this.log.error({ err, job: spec.name }, "could not record a failed launch");
    }
  }

  /** Marks an execution that can no longer finish as failed (same msg-id as its own finish). */
  async recordLost(r: ExecutionRecord, reason: string): Promise<void> {
    const now = this.now();
    const lost: ExecutionRecord = {
      ...r,
      state: "finished",
      finished_at: now,
      success: false,
      output: `${r.output}${r.output && !r.output.endsWith("\n") ? "\n" : ""}[dkron] ${reason}\n`,
      reason,
    };
    await this.js.publish(SUBJECT.execution(r.job_name, "finished"), encodeJson(lost), {
      msgID: executionMsgId(r.job_name, r.group_ms, r.node_name, r.attempt, "finished"),
    });
  }
}
