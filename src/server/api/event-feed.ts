// Feeds the WebSocket hub from the node's own views of the cluster: the jobs
// and status mirrors, the read model, the member table and the lease.
import type { NatsConnection } from "nats";
import { toExecutionJson, type ExecutionRecord } from "../../shared/execution.js";
import type { JobSpec, JobStatus } from "../../shared/job.js";
import type { Member } from "../../shared/member.js";
import type { JobCatalog } from "../jobs/catalog.js";
import type { Logger } from "../logger.js";
import type { ReadModelDb } from "../readmodel/db.js";
import type { ReadModelFeeder } from "../readmodel/feeder.js";
import type { KvMirror } from "../store/kv-mirror.js";
import { OUTPUT_OFFSET_HEADER, SUBJECT } from "../store/names.js";
import { EventHub, type OutputSource } from "./events.js";

export interface EventFeedDeps {
  nc: NatsConnection;
  node: string;
  catalog: JobCatalog;
  jobs: KvMirror<JobSpec>;
  statuses: KvMirror<JobStatus>;
  readModel: ReadModelDb;
  feeder: ReadModelFeeder;
  members: { onChange(fn: (name: string) => void): () => void; json(leader: string | undefined): Member[] };
  leader(): string | null;
  /** Output so far of a running execution, with the byte offset it reaches. */
  liveOutputAt(rec: ExecutionRecord): Promise<{ output: string; total: number } | undefined>;
  log: Logger;
}

export function startEventFeed(d: EventFeedDeps): { hub: EventHub; stop(): void } {
  const output: OutputSource = {
    async current(job, id) {
      const rec = d.readModel.get(job, id);
      if (!rec) return undefined;
      if (rec.finished_at !== null) return { output: rec.output, finished: true };
      const live = await d.liveOutputAt(rec);
      return { output: live?.output ?? rec.output, finished: false };
    },
    follow(job, id, onChunk, onEnd) {
      // Chunks carry their byte offset: skip what the snapshot already had.
      let have = -1;
      void d.liveOutputAt(d.readModel.get(job, id) ?? ({ id, node_name: "" } as ExecutionRecord)).then((l) => (have = l?.total ?? 0));
      const dec = new TextDecoder();
      const sub = d.nc.subscribe(SUBJECT.output(id), {
        callback: (err, msg) => {
          if (err) return;
          const offset = Number(msg.headers?.get(OUTPUT_OFFSET_HEADER) ?? -1);
          if (have >= 0 && offset >= 0 && offset < have) return;
          onChunk(dec.decode(msg.data));
        },
      });
      const off = d.feeder.onRecord((r) => {
        if (r.id === id && r.state === "finished") {
          cleanup();
          onEnd();
        }
      });
      const cleanup = () => {
        sub.unsubscribe();
        off();
      };
      return cleanup;
    },
  };
  const hub = new EventHub({ node: d.node, leader: d.leader, output, log: d.log });
  const offs = [
    d.jobs.on((ev) => {
      if (ev.op === "delete") hub.publish({ type: "job", op: "delete", name: ev.key });
      else hub.publish({ type: "job", op: "put", job: d.catalog.toJson(ev.value) });
    }),
    d.statuses.on((ev) => {
      const spec = ev.op === "put" ? d.catalog.spec(ev.key) : undefined;
      if (spec) hub.publish({ type: "job", op: "put", job: d.catalog.toJson(spec) });
    }),
    d.feeder.onRecord((r) => hub.publish({ type: "execution", execution: toExecutionJson(r) })),
    d.members.onChange((name) => {
      const m = d.members.json(d.leader() ?? undefined).find((x) => x.Name === name);
      if (m) hub.publish({ type: "member", member: m });
    }),
  ];
  let lastLeader = d.leader();
  const timer = setInterval(() => {
    const l = d.leader();
    if (l !== lastLeader) {
      lastLeader = l;
      hub.publish({ type: "leader", leader: l });
    }
  }, 250);
  timer.unref();
  return {
    hub,
    stop() {
      clearInterval(timer);
      for (const off of offs) off();
      hub.close();
    },
  };
}
