// `npm run bench -- lag [--jobs 1000] [--seconds 60] [--interval 10]`
// N jobs running `true` at `@every <interval>s` — spread over the interval by
// the per-job anchor, ≈ N/interval fires per second — for a fixed time; prints
// the fire lag (scheduled instant → the runner starting the executor) as the
// agent measured it, and the agent's and nats-server's RSS.
import { api, startAgent } from "../test/helpers/agent.js";
import { arg, fmt, pool, rssMiB } from "./common.js";

export async function lagBench(args: string[]): Promise<void> {
  const jobs = arg(args, "jobs", 1_000);
  const seconds = arg(args, "seconds", 60);
  const interval = arg(args, "interval", 10);
  const agent = await startAgent({ args: ["--log-level", "warn"] });
  try {
    console.log(`lag: ${jobs} jobs at @every ${interval}s (≈${(jobs / interval).toFixed(0)} fires/s) for ${seconds}s`);
    const t0 = performance.now();
    await pool(Array.from({ length: jobs }, (_, i) => i), 16, async (i) => {
      const r = await api(agent.url, "POST", "/v1/jobs", {
        name: `lag-${i}`,
        schedule: `@every ${interval}s`,
        executor: "shell",
        executor_config: { command: "true" },
      });
      if (r.status !== 201) throw new Error(`create failed: ${r.status} ${JSON.stringify(r.body)}`);
    });
    console.log(`created ${jobs} jobs in ${fmt(performance.now() - t0)}`);
    // Skip one full interval so every job is armed and the JIT is warm.
    await new Promise((r) => setTimeout(r, interval * 1000));
    const since = Date.now();
    const rssSamples: number[] = [];
    const end = since + seconds * 1000;
    while (Date.now() < end) {
      await new Promise((r) => setTimeout(r, 1000));
      rssSamples.push(rssMiB(agent.pid));
    }
    const vars = (await api<{ fire_lag_ms: { count: number; p50: number; p99: number; max: number }; scheduler: unknown; outbox_pending: number }>(
      agent.url, "GET", `/debug/vars?lag_since=${since}`)).body;
    const lag = vars.fire_lag_ms;
    const expected = Math.round((jobs / interval) * seconds);
    console.log(`fires measured: ${lag.count} (expected ≈${expected}, ${(lag.count / seconds).toFixed(1)}/s)`);
    console.log(`fire lag: p50 ${fmt(lag.p50)}  p99 ${fmt(lag.p99)}  max ${fmt(lag.max)}   (target p99 ≤ 5 ms)`);
    const slack = (vars as unknown as { dispatch_slack_ms: { p1: number; p50: number } }).dispatch_slack_ms;
    console.log(`launch reached the runner ahead of its instant by: p50 ${fmt(slack.p50)}, p1 ${fmt(slack.p1)} (negative = late)`);
    console.log(`agent RSS: last ${rssSamples.at(-1)} MiB, max ${Math.max(...rssSamples)} MiB; nats-server RSS ${rssMiB(agent.natsPid())} MiB`);
    console.log(`scheduler: ${JSON.stringify(vars.scheduler)}; outbox pending ${vars.outbox_pending}`);
  } finally {
    await agent.stop();
  }
}
