// Idempotent creation of the KV buckets and the executions stream.
import {
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  nanos,
  type JetStreamClient,
  type JetStreamManager,
  type KV,
} from "nats";
import { BUCKET, EXECUTIONS_STREAM, SUBJECT } from "./names.js";
import { jobKv, type JobKv } from "./job-kv.js";

export interface StoreOptions {
  replicas: number;
  leaseTtlMs: number;
  /** Executions kept per job (per state subject). */
  executionsPerJob: number;
  /** Longer than the slowest takeover, so a re-dispatched launch is still recognised as a duplicate. */
  duplicateWindowMs: number;
}

export const DEFAULT_STORE_OPTIONS: StoreOptions = {
  replicas: 1,
  leaseTtlMs: 3_000,
  executionsPerJob: 100,
  duplicateWindowMs: 15 * 60_000,
};

export interface Buckets {
  jobs: JobKv;
  status: JobKv;
  leader: KV;
  ticks: JobKv;
  cluster: JobKv;
}

export async function ensureStore(js: JetStreamClient, jsm: JetStreamManager, opts: StoreOptions): Promise<Buckets> {
  const replicas = Math.max(1, Math.min(3, opts.replicas));
  // allow_direct off: a "direct get" may be answered by any replica, including
  // one that just restarted and is behind — a stale read of the lease or a
  // claim. Reads then go through the stream leader, like the writes.
  const bucket = async (name: string, o: Parameters<JetStreamClient["views"]["kv"]>[1]): Promise<KV> => {
    const kv = await js.views.kv(name, { ...o, replicas, allow_direct: false });
    const info = await jsm.streams.info(`KV_${name}`);
    if (!info.config.allow_direct) return kv;
    await jsm.streams.update(`KV_${name}`, { ...info.config, allow_direct: false });
    return js.views.kv(name, { ...o, replicas, allow_direct: false });
  };
  const [jobs, status, leader, ticks, cluster] = await Promise.all([
    bucket(BUCKET.jobs, { history: 10 }),
    bucket(BUCKET.status, { history: 1 }),
    bucket(BUCKET.leader, { history: 1, ttl: opts.leaseTtlMs }),
    bucket(BUCKET.ticks, { history: 1 }),
    bucket(BUCKET.cluster, { history: 5 }),
  ]);
  await ensureExecutionsStream(jsm, opts, replicas);
  return { jobs: jobKv(jobs), status: jobKv(status), leader, ticks: jobKv(ticks), cluster: jobKv(cluster) };
}

async function ensureExecutionsStream(jsm: JetStreamManager, opts: StoreOptions, replicas: number): Promise<void> {
  const config = {
    name: EXECUTIONS_STREAM,
    subjects: [SUBJECT.executionsAll],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_msgs_per_subject: opts.executionsPerJob,
    duplicate_window: nanos(opts.duplicateWindowMs),
    num_replicas: replicas,
  };
  try {
    const info = await jsm.streams.info(EXECUTIONS_STREAM);
    const c = info.config;
    if (c.max_msgs_per_subject !== config.max_msgs_per_subject || c.duplicate_window !== config.duplicate_window) {
      await jsm.streams.update(EXECUTIONS_STREAM, { ...c, ...config });
    }
  } catch (err) {
    if (!isStreamNotFound(err)) throw err;
    await jsm.streams.add(config);
  }
}

const isStreamNotFound = (err: unknown): boolean => {
  const e = err as { api_error?: { err_code?: number }; message?: string };
  return e?.api_error?.err_code === 10059 || /stream not found/i.test(e?.message ?? "");
};
