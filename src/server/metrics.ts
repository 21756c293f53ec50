// Prometheus metrics (/metrics) with Dkron's names for what Dkron has, plus
// fire lag and execution duration. Every server counts every finished
// execution it sees in the stream, so any server can be scraped.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { ExecutionRecord } from "../shared/execution.js";

export class Metrics {
  readonly registry = new Registry();
  private readonly succeeded = new Counter({
    name: "dkron_job_executions_succeeded_total",
    help: "Executions that finished successfully, by job",
    labelNames: ["job_name"],
    registers: [this.registry],
  });
  private readonly failed = new Counter({
    name: "dkron_job_executions_failed_total",
    help: "Executions that failed, by job",
    labelNames: ["job_name"],
    registers: [this.registry],
  });
  private readonly duration = new Histogram({
    name: "dkron_execution_duration_seconds",
    help: "Execution duration (start to finish)",
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800, 3600],
    registers: [this.registry],
  });
  private readonly lag = new Histogram({
    name: "dkron_fire_lag_seconds",
    help: "Scheduled instant to the executor starting, on this node",
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [this.registry],
  });

  constructor(gauges: { leader(): number; jobs(): number; members(): Record<string, number> }) {
    collectDefaultMetrics({ register: this.registry, prefix: "dkron_" });
    new Gauge({ name: "dkron_leader", help: "1 on the leader", registers: [this.registry], collect() {
      this.set(gauges.leader());
    } });
    new Gauge({ name: "dkron_jobs", help: "Jobs defined", registers: [this.registry], collect() {
      this.set(gauges.jobs());
    } });
    new Gauge({ name: "dkron_members", help: "Cluster members by status", labelNames: ["status"], registers: [this.registry], collect() {
      for (const [status, n] of Object.entries(gauges.members())) this.set({ status }, n);
    } });
  }

  finished(r: ExecutionRecord): void {
    if (r.state !== "finished") return;
    (r.success ? this.succeeded : this.failed).inc({ job_name: r.job_name });
    if (r.finished_at !== null) this.duration.observe(Math.max(0, r.finished_at - r.started_at) / 1000);
  }

  fireLag(ms: number): void {
    this.lag.observe(ms / 1000);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
