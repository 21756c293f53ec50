// `npm run bench -- jobs [--jobs 10000] [--page 100]`
// Creates N jobs through the API, then times paged `GET /v1/jobs`, the full
// list, and `dkron jobs list --json` (the built CLI, a new process each run).
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { api, BIN, startAgent } from "../test/helpers/agent.js";
import { arg, fmt, percentiles, pool, rssMiB } from "./common.js";

const run = promisify(execFile);

export async function jobsBench(args: string[]): Promise<void> {
  const jobs = arg(args, "jobs", 10_000);
  const page = arg(args, "page", 100);
  const agent = await startAgent({ args: ["--log-level", "warn"] });
  try {
    const create: number[] = [];
    const t0 = performance.now();
    await pool(Array.from({ length: jobs }, (_, i) => i), 32, async (i) => {
      const s = performance.now();
      const r = await api(agent.url, "POST", "/v1/jobs", {
        name: `job-${String(i).padStart(6, "0")}`,
        schedule: `0 ${i % 60} ${i % 24} * * *`,
        executor_config: { command: "true" },
        metadata: { team: `t${i % 10}` },
      });
      if (r.status !== 201) throw new Error(`create failed: ${r.status} ${JSON.stringify(r.body)}`);
      create.push(performance.now() - s);
    });
    const total = performance.now() - t0;
    const c = percentiles(create);
    console.log(`create ${jobs} jobs: ${fmt(total)} total (${(jobs / (total / 1000)).toFixed(0)}/s), per request p50 ${fmt(c.p50)} p99 ${fmt(c.p99)}`);

    const pages: number[] = [];
    for (let round = 0; round < 3; round++) {
      for (let start = 0; start < jobs; start += page) {
        const s = performance.now();
        const r = await api<unknown[]>(agent.url, "GET", `/v1/jobs?_start=${start}&_end=${start + page}&_sort=name&_order=ASC`);
        pages.push(performance.now() - s);
        if (r.body.length !== Math.min(page, jobs - start)) throw new Error(`page at ${start} has ${r.body.length} jobs`);
      }
    }
    const p = percentiles(pages);
    console.log(`GET /v1/jobs pages of ${page}: n=${p.n} p50 ${fmt(p.p50)} p99 ${fmt(p.p99)} max ${fmt(p.max)}`);

    const filtered: number[] = [];
    for (let i = 0; i < 50; i++) {
      const s = performance.now();
      await api(agent.url, "GET", `/v1/jobs?metadata[team]=t${i % 10}&q=job-00&_start=0&_end=20&_sort=next&_order=DESC`);
      filtered.push(performance.now() - s);
    }
    const f = percentiles(filtered);
    console.log(`GET /v1/jobs filtered+sorted (metadata, q, _sort=next): p50 ${fmt(f.p50)} p99 ${fmt(f.p99)}`);

    const full: number[] = [];
    for (let i = 0; i < 10; i++) {
      const s = performance.now();
      const r = await api<unknown[]>(agent.url, "GET", "/v1/jobs");
      full.push(performance.now() - s);
      if (r.body.length !== jobs) throw new Error(`full list has ${r.body.length}`);
    }
    const fl = percentiles(full);
    console.log(`GET /v1/jobs all ${jobs}: p50 ${fmt(fl.p50)} p99 ${fmt(fl.p99)}`);

    const cli: number[] = [];
    for (let i = 0; i < 10; i++) {
      const s = performance.now();
      const { stdout } = await run(process.execPath, [BIN, "jobs", "list", "--json", "--address", agent.url], { maxBuffer: 512 * 1024 * 1024 });
      cli.push(performance.now() - s);
      const n = (JSON.parse(stdout) as unknown[]).length;
      if (n !== jobs) throw new Error(`dkron jobs list --json printed ${n} jobs`);
    }
    const cl = percentiles(cli);
    console.log(`dkron jobs list --json (${jobs} jobs, whole process): p50 ${fmt(cl.p50)} p99 ${fmt(cl.p99)}`);
    console.log(`agent RSS ${rssMiB(agent.pid)} MiB; nats-server RSS ${rssMiB(agent.natsPid())} MiB`);
  } finally {
    await agent.stop();
  }
}
