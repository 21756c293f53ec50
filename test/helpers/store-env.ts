// A real nats-server with dkron's store and the jobs/status mirrors, as the
// agent wires them: the environment the scheduler tests build on.
import { connect, type NatsConnection } from "nats";
import { afterEach } from "vitest";
import { JobCatalog } from "../../src/server/jobs/catalog.js";
import { silentLogger } from "../../src/server/logger.js";
import type { Selection } from "../../src/server/scheduler/targets.js";
import type { JobKv } from "../../src/server/store/job-kv.js";
import { KvMirror } from "../../src/server/store/kv-mirror.js";
import { DEFAULT_STORE_OPTIONS, ensureStore } from "../../src/server/store/setup.js";
import type { ExecutionRecord } from "../../src/shared/execution.js";
import type { JobSpec, JobStatus } from "../../src/shared/job.js";
import { startNatsServer } from "./nats.js";

export interface Dispatched {
  job: string;
  instant: number;
  trigger: ExecutionRecord["trigger"];
  targets: Selection;
}

export interface Env {
  nc: NatsConnection;
  ticks: JobKv;
  catalog: JobCatalog;
}

/** Call at the top of a test file: returns `setup()`, whose resources are released after each test. */
export function useStoreEnv(): { setup(): Promise<Env>; cleanups: Array<() => unknown> } {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await Promise.resolve().then(fn).catch(() => undefined);
  });
  async function setup(): Promise<Env> {
    const server = await startNatsServer();
    cleanups.push(() => server.stop());
    const nc = await connect({ servers: server.url });
    cleanups.push(() => nc.close());
    const buckets = await ensureStore(nc.jetstream(), await nc.jetstreamManager(), DEFAULT_STORE_OPTIONS);
    const log = silentLogger();
    const jobs = new KvMirror<JobSpec>(buckets.jobs, nc, log, "jobs");
    const statuses = new KvMirror<JobStatus>(buckets.status, nc, log, "status");
    await Promise.all([jobs.start(), statuses.start()]);
    cleanups.push(() => jobs.stop(), () => statuses.stop());
    return { nc, ticks: buckets.ticks, catalog: new JobCatalog(jobs, statuses) };
  }
  return { setup, cleanups };
}
