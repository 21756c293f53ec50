// Fire lag samples (scheduled instant → executor started), kept in a ring and
// summarised for /debug/vars and the lag benchmark.
export interface LagSummary {
  count: number;
  p1: number;
  p50: number;
  p99: number;
  max: number;
}

export class LagRecorder {
  private readonly lag: Float64Array;
  private readonly at: Float64Array;
  private count = 0;

  constructor(capacity: number, private readonly now: () => number = Date.now) {
    this.lag = new Float64Array(capacity);
    this.at = new Float64Array(capacity);
  }

  record(ms: number): void {
    const i = this.count % this.lag.length;
    this.lag[i] = ms;
    this.at[i] = this.now();
    this.count++;
  }

  /** Percentiles over the samples recorded at or after `sinceMs` (all kept samples by default). */
  summary(sinceMs = 0): LagSummary {
    const n = Math.min(this.count, this.lag.length);
    const picked: number[] = [];
    for (let i = 0; i < n; i++) if (this.at[i]! >= sinceMs) picked.push(this.lag[i]!);
    if (picked.length === 0) return { count: 0, p1: 0, p50: 0, p99: 0, max: 0 };
    picked.sort((a, b) => a - b);
    const q = (p: number) => picked[Math.min(picked.length - 1, Math.floor(p * picked.length))]!;
    return { count: picked.length, p1: q(0.01), p50: q(0.5), p99: q(0.99), max: picked[picked.length - 1]! };
  }
}
