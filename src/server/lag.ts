// Fire lag samples (scheduled instant → executor started), kept in a ring and
// summarised for /debug/vars and the lag benchmark.
export class LagRecorder {
  private readonly ring: Float64Array;
  private count = 0;

  constructor(capacity: number) {
    this.ring = new Float64Array(capacity);
  }

  record(ms: number): void {
    this.ring[this.count % this.ring.length] = ms;
    this.count++;
  }

  reset(): void {
    this.count = 0;
  }

  summary(): { count: number; p50: number; p99: number; max: number } {
    const n = Math.min(this.count, this.ring.length);
    if (n === 0) return { count: 0, p50: 0, p99: 0, max: 0 };
    const sorted = Array.from(this.ring.subarray(0, n)).sort((a, b) => a - b);
    const q = (p: number) => sorted[Math.min(n - 1, Math.floor(p * n))]!;
    return { count: this.count, p50: q(0.5), p99: q(0.99), max: sorted[n - 1]! };
  }
}
