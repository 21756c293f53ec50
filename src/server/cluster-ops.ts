// Operations the API performs across the cluster, from whichever server the
// request reached: run now through the leader, kill an execution on the node
// that runs it, delete a job's data, pause job submissions cluster-wide.
import type { JetStreamManager, NatsConnection } from "nats";
import { DkronError, notFound } from "../shared/errors.js";
import type { ExecutionRecord } from "../shared/execution.js";
import type { Job } from "../shared/job.js";
import type { MemberTable } from "./cluster/members.js";
import type { JobCatalog } from "./jobs/catalog.js";
import type { Leadership } from "./leader/leadership.js";
import type { LeaderLease } from "./leader/lease.js";
import type { ReadModelDb } from "./readmodel/db.js";
import type { Runner } from "./runner/runner.js";
import type { RunNowReply, RunNowRequest } from "./runner/protocol.js";
import type { Dispatcher } from "./scheduler/dispatch.js";
import { decodeJson, encodeJson } from "./store/codec.js";
import type { KvMirror } from "./store/kv-mirror.js";
import { EXECUTIONS_STREAM, PAUSED_KEY, SUBJECT } from "./store/names.js";
import type { Buckets } from "./store/setup.js";

export interface ClusterOpsDeps {
  nc: NatsConnection;
  jsm: JetStreamManager;
  node: string;
  buckets: Buckets;
  catalog: JobCatalog;
  readModel: ReadModelDb;
  members: MemberTable;
  dispatcher: Dispatcher;
  runner: Runner;
  lease: () => LeaderLease;
  leadership: () => Leadership;
  settings: KvMirror<{ paused: boolean }>;
}

export class ClusterOps {
  constructor(private readonly d: ClusterOpsDeps) {}

  /** Run-now goes through the leader, wherever the API call landed. */
  async runNow(job: string): Promise<number> {
    if (this.d.lease().isLeader) return this.d.leadership().runNow(job);
    let reply: RunNowReply;
    try {
      const msg = await this.d.nc.request(SUBJECT.leaderRun, encodeJson({ job } satisfies RunNowRequest), { timeout: 5_000 });
      reply = decodeJson<RunNowReply>(msg.data);
    } catch (err) {
      throw new DkronError("unavailable", `no leader to run the job: ${(err as Error).message}`);
    }
    if (!reply.ok) throw new DkronError((reply.error?.code as never) ?? "internal", reply.error?.message ?? "run failed");
    return reply.group_ms!;
  }

  /** A deleted job's executions, claim and status go with it. */
  async purgeJob(job: string): Promise<void> {
    this.d.readModel.deleteJob(job);
    await Promise.all([
      this.d.jsm.streams.purge(EXECUTIONS_STREAM, { filter: SUBJECT.executionsOfJob(job) }),
      this.d.buckets.ticks.purge(job),
      this.d.buckets.status.purge(job),
    ]);
  }

  async deleteJob(name: string): Promise<Job> {
    const job = await this.d.catalog.delete(name);
    await this.purgeJob(name);
    return job;
  }

  /** DELETE /v1/jobs/:job/executions: history and counters reset, the job stays. */
  async deleteExecutions(name: string): Promise<Job> {
    if (!this.d.catalog.spec(name)) throw notFound(`job ${JSON.stringify(name)}`);
    this.d.readModel.deleteJob(name);
    const cur = this.d.catalog.statuses.get(name);
    await Promise.all([
      this.d.jsm.streams.purge(EXECUTIONS_STREAM, { filter: SUBJECT.executionsOfJob(name) }),
      this.d.buckets.status.purge(name),
    ]);
    // Read-your-write: the purge's own revision comes in through the watch after this.
    if (cur) this.d.catalog.statuses.applyLocal(name, undefined, cur.revision + 1);
    return this.d.catalog.get(name);
  }

  findExecution(id: string, job?: string): ExecutionRecord {
    const rec = job ? this.d.readModel.get(job, id) : this.d.readModel.byId(id);
    if (!rec) throw notFound(`execution ${JSON.stringify(id)}`);
    return rec;
  }

  /**
   * Kills a running execution on the node that runs it (its whole process
   * group); recorded as failed with the reason. An execution whose node is
   * gone is marked lost instead.
   */
  async kill(id: string, job?: string): Promise<ExecutionRecord> {
    const rec = this.findExecution(id, job);
    if (rec.finished_at !== null) throw new DkronError("conflict", `execution ${JSON.stringify(id)} already finished`);
    const reason = "killed on request";
    if (rec.node_name === this.d.node) {
      if (this.d.runner.kill(rec.id, reason)) return rec;
    } else {
      try {
        const msg = await this.d.nc.request(SUBJECT.agentKill(rec.node_name), encodeJson({ id: rec.id, reason }), { timeout: 2_000 });
        if (decodeJson<{ killed: boolean }>(msg.data).killed) return rec;
      } catch {
        // the node does not answer: fall through
      }
    }
    if (!this.d.members.isAlive(rec.node_name) || rec.node_name === this.d.node) {
      await this.d.dispatcher.recordLost(rec, `${reason}; node ${rec.node_name} was not running it (node lost)`);
      return rec;
    }
    throw new DkronError("unavailable", `node ${rec.node_name} did not confirm the kill; try again`);
  }

  get paused(): boolean {
    return this.d.settings.get(PAUSED_KEY)?.value.paused === true;
  }

  async setPaused(paused: boolean): Promise<boolean> {
    const cur = this.d.settings.get(PAUSED_KEY);
    const data = encodeJson({ paused });
    const rev = cur ? await this.d.buckets.cluster.update(PAUSED_KEY, data, cur.revision) : await this.d.buckets.cluster.create(PAUSED_KEY, data);
    this.d.settings.applyLocal(PAUSED_KEY, { paused }, rev);
    return paused;
  }
}
