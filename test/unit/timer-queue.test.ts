import { describe, expect, it } from "vitest";
import {
  IndexedMinHeap,
  MAX_TIMER_DELAY_MS,
  TimerQueue,
  type TimerClock,
} from "../../src/server/scheduler/timer-queue.js";

/** A manual clock: timers only run when the test moves time. */
class FakeClock implements TimerClock {
  t = 0;
  private nextId = 1;
  readonly timers = new Map<number, { at: number; fn: () => void }>();
  /** Every delay passed to setTimeout, in order. */
  readonly armed: number[] = [];

  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { at: this.t + ms, fn });
    this.armed.push(ms);
    return id;
  }
  clearTimeout(h: unknown): void {
    this.timers.delete(h as number);
  }
  /** Moves time forward, running timers in order at their due time. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let best: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.timers) if (e[1].at <= end && (!best || e[1].at < best[1].at)) best = e;
      if (!best) break;
      this.timers.delete(best[0]);
      this.t = Math.max(this.t, best[1].at);
      best[1].fn();
    }
    this.t = end;
  }
  /** Runs the pending timer `early` ms before its due time (as setTimeout sometimes does). */
  fireEarly(early: number): void {
    const [[id, timer]] = [...this.timers];
    this.timers.delete(id);
    this.t = timer.at - early;
    timer.fn();
  }
}

/** Lets the queue's batched re-arm (a microtask) run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function setup(onDueExtra?: (q: TimerQueue, key: string, at: number) => void) {
  const clock = new FakeClock();
  const fired: Array<[string, number, number]> = []; // key, scheduled at, clock when fired
  const q: TimerQueue = new TimerQueue((key, at) => {
    fired.push([key, at, clock.now()]);
    onDueExtra?.(q, key, at);
  }, clock);
  return { clock, fired, q };
}

describe("IndexedMinHeap", () => {
  it("pops in time order, FIFO among equal times", () => {
    const h = new IndexedMinHeap();
    h.set("c", 30);
    h.set("a", 10);
    h.set("x", 20);
    h.set("b", 20);
    expect(h.size).toBe(4);
    expect(h.peek()).toEqual({ key: "a", at: 10 });
    const order: string[] = [];
    while (h.size > 0) order.push(h.pop()!.key);
    expect(order).toEqual(["a", "x", "b", "c"]);
    expect(h.pop()).toBeUndefined();
    expect(h.peek()).toBeUndefined();
  });

  it("updates and deletes by key", () => {
    const h = new IndexedMinHeap();
    for (const [k, t] of [["a", 1], ["b", 2], ["c", 3], ["d", 4]] as const) h.set(k, t);
    h.set("a", 5); // move later
    h.set("d", 0); // move earlier
    expect(h.delete("b")).toBe(true);
    expect(h.delete("b")).toBe(false);
    expect(h.get("a")).toBe(5);
    expect(h.has("b")).toBe(false);
    const order: Array<[string, number]> = [];
    while (h.size > 0) {
      const e = h.pop()!;
      order.push([e.key, e.at]);
    }
    expect(order).toEqual([["d", 0], ["c", 3], ["a", 5]]);
  });

  it("stays consistent under 100k random sets, updates and deletes", () => {
    const h = new IndexedMinHeap();
    let seed = 42;
    const rnd = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const want = new Map<string, number>();
    for (let i = 0; i < 100_000; i++) {
      const k = `job-${i}`;
      const t = Math.floor(rnd() * 1e9);
      h.set(k, t);
      want.set(k, t);
    }
    for (let i = 0; i < 100_000; i += 3) {
      const k = `job-${i}`;
      const t = Math.floor(rnd() * 1e9);
      h.set(k, t);
      want.set(k, t);
    }
    for (let i = 1; i < 100_000; i += 7) {
      h.delete(`job-${i}`);
      want.delete(`job-${i}`);
    }
    expect(h.size).toBe(want.size);
    let prev = -Infinity;
    let n = 0;
    while (h.size > 0) {
      const e = h.pop()!;
      if (e.at < prev) throw new Error(`out of order at ${e.key}`);
      if (want.get(e.key) !== e.at) throw new Error(`wrong time for ${e.key}`);
      prev = e.at;
      n++;
    }
    expect(n).toBe(want.size);
  });
});

describe("TimerQueue", () => {
  it("fires entries in time order with their scheduled time", async () => {
    const { clock, fired, q } = setup();
    q.start();
    q.set("c", 30);
    q.set("a", 10);
    q.set("b", 20);
    await settle();
    clock.advance(100);
    expect(fired).toEqual([
      ["a", 10, 10],
      ["b", 20, 20],
      ["c", 30, 30],
    ]);
    expect(q.size).toBe(0);
  });

  it("honours updates and deletes", async () => {
    const { clock, fired, q } = setup();
    q.start();
    q.set("a", 10);
    q.set("b", 20);
    q.set("a", 30);
    expect(q.delete("b")).toBe(true);
    expect(q.delete("nope")).toBe(false);
    await settle();
    clock.advance(100);
    expect(fired).toEqual([["a", 30, 30]]);
  });

  it("re-arms only when the earliest entry changes, with the exact delay", async () => {
    const { clock, q } = setup();
    q.start();
    expect(clock.armed).toEqual([]); // empty: no timer
    q.set("a", 100);
    await settle();
    expect(clock.armed).toEqual([100]);
    q.set("b", 200); // not the earliest
    await settle();
    expect(clock.armed).toEqual([100]);
    q.set("c", 50); // new earliest
    await settle();
    expect(clock.armed).toEqual([100, 50]);
    q.delete("b");
    await settle();
    expect(clock.armed).toEqual([100, 50]);
    q.delete("c"); // earliest removed: back to a
    await settle();
    expect(clock.armed).toEqual([100, 50, 100]);
    expect(clock.timers.size).toBe(1);
    // a burst of changes re-arms once
    for (let i = 0; i < 1000; i++) q.set(`k${i}`, 90 - i / 100);
    await settle();
    expect(clock.armed).toEqual([100, 50, 100, 90 - 999 / 100]);
    expect(clock.timers.size).toBe(1);
  });

  it("re-arms instead of firing early when setTimeout wakes up early", async () => {
    const { clock, fired, q } = setup();
    q.start();
    q.set("a", 100);
    await settle();
    clock.fireEarly(2); // wakes at 98
    expect(fired).toEqual([]);
    expect(clock.armed).toEqual([100, 2]);
    clock.fireEarly(1); // wakes at 99
    expect(fired).toEqual([]);
    expect(clock.armed).toEqual([100, 2, 1]);
    clock.advance(1);
    expect(fired).toEqual([["a", 100, 100]]);
  });

  it("reaches far-future entries through chunks of at most 2^31-1 ms", async () => {
    const { clock, fired, q } = setup();
    q.start();
    const at = 2 * MAX_TIMER_DELAY_MS + 5000;
    q.set("far", at);
    await settle();
    expect(clock.armed).toEqual([MAX_TIMER_DELAY_MS]);
    clock.advance(MAX_TIMER_DELAY_MS);
    expect(fired).toEqual([]);
    clock.advance(MAX_TIMER_DELAY_MS);
    expect(fired).toEqual([]);
    expect(clock.armed).toEqual([MAX_TIMER_DELAY_MS, MAX_TIMER_DELAY_MS, 5000]);
    clock.advance(5000);
    expect(fired).toEqual([["far", at, at]]);
  });

  it("lets a callback re-set its own key (recurring jobs)", async () => {
    const { clock, fired, q } = setup((q, key, at) => q.set(key, at + 10));
    q.start();
    q.set("tick", 10);
    await settle();
    clock.advance(35);
    expect(fired.map(([, at, now]) => [at, now])).toEqual([
      [10, 10],
      [20, 20],
      [30, 30],
    ]);
    expect(q.get("tick")).toBe(40);
    expect(clock.timers.size).toBe(1);
  });

  it("does not loop when a callback re-sets a key into the past: it fires on the next wake", async () => {
    const { clock, fired, q } = setup((q, key, at) => q.set(key, at - 1));
    q.start();
    q.set("k", 10);
    await settle();
    clock.fireEarly(0); // one wake at t=10
    expect(fired).toEqual([["k", 10, 10]]);
    expect(q.get("k")).toBe(9);
    expect(clock.armed.at(-1)).toBe(0); // due now: armed with no delay
    clock.fireEarly(0);
    expect(fired).toHaveLength(2);
  });

  it("fires everything already due in one wake, and entries becoming due meanwhile", async () => {
    const { clock, fired, q } = setup((_q, key) => {
      if (key === "slow") clock.t += 5; // a slow callback
    });
    q.start();
    q.set("slow", 10);
    q.set("b", 10);
    q.set("c", 14);
    q.set("d", 20);
    await settle();
    clock.fireEarly(0);
    expect(fired).toEqual([
      ["slow", 10, 10],
      ["b", 10, 15],
      ["c", 14, 15],
    ]);
    expect(q.peek()).toEqual({ key: "d", at: 20 });
  });

  it("stop() disarms; start() fires what became due while stopped", async () => {
    const { clock, fired, q } = setup();
    q.set("a", 10); // not started: no timer yet
    await settle();
    expect(clock.timers.size).toBe(0);
    q.start();
    expect(clock.timers.size).toBe(1);
    q.stop();
    expect(clock.timers.size).toBe(0);
    clock.advance(50);
    expect(fired).toEqual([]);
    q.start();
    expect(clock.armed.at(-1)).toBe(0);
    clock.advance(0);
    expect(fired).toEqual([["a", 10, 50]]);
  });

  it("a throwing callback is reported and does not stop the others", async () => {
    const clock = new FakeClock();
    const fired: string[] = [];
    const errors: string[] = [];
    const q = new TimerQueue(
      (key) => {
        fired.push(key);
        if (key === "bad") throw new Error("boom");
      },
      clock,
      (err, key) => errors.push(`${key}: ${(err as Error).message}`),
    );
    q.start();
    q.set("bad", 10);
    q.set("good", 10);
    await settle();
    clock.advance(10);
    expect(fired).toEqual(["bad", "good"]);
    expect(errors).toEqual(["bad: boom"]);
  });

  it("handles 100,000 entries with a single armed timer", async () => {
    const { clock, fired, q } = setup();
    q.start();
    const started = performance.now();
    for (let i = 0; i < 100_000; i++) q.set(`job-${i}`, 1_000_000 - i); // every set is a new earliest
    const elapsed = performance.now() - started;
    console.log(`timer-queue: 100k sets in ${elapsed.toFixed(1)} ms`);
    await settle();
    expect(q.size).toBe(100_000);
    expect(clock.armed).toEqual([1_000_000 - 99_999]);
    // Generous bound that only an accidental O(n) per operation would break (target: well under 200 ms).
    expect(elapsed).toBeLessThan(5000);
    clock.advance(1_000_000);
    expect(fired).toHaveLength(100_000);
    expect(fired.every(([, at], i) => i === 0 || at >= fired[i - 1]![1])).toBe(true);
  });

  it("works with real timers and never fires early", async () => {
    const due = Date.now() + 30;
    const got = await new Promise<[string, number, number]>((resolve) => {
      const q = new TimerQueue((key, at) => {
        q.stop();
        resolve([key, at, Date.now()]);
      });
      q.start();
      q.set("real", due);
    });
    expect(got[0]).toBe("real");
    expect(got[1]).toBe(due);
    expect(got[2]).toBeGreaterThanOrEqual(due);
  });
});
