// One timer for all jobs: an indexed binary min-heap of (key, fire time) and a queue that keeps
// a single setTimeout armed for the earliest entry.
//
// Precision: the timer is armed with the exact delay (no rounding up). setTimeout may wake a
// millisecond early (libuv caches the loop time), so an entry fires only once `now() >= at`;
// otherwise the timer is re-armed for the remainder. Delays beyond setTimeout's 2^31-1 ms
// limit are covered in chunks.
//
// Cost: set/delete are O(log n). Re-arming is batched into one microtask per synchronous burst,
// so setting 100k keys costs one clearTimeout/setTimeout pair, not 100k.

export interface TimerClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: TimerClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** setTimeout's largest delay; longer ones fire immediately in Node, so we chunk. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

interface HeapEntry {
  readonly key: string;
  at: number;
  /** Insertion order, the tie-breaker among equal times (FIFO). */
  seq: number;
  /** Current slot in the heap array. */
  pos: number;
}

const before = (a: HeapEntry, b: HeapEntry): boolean => a.at < b.at || (a.at === b.at && a.seq < b.seq);

/**
 * Binary min-heap keyed by string, ordered by (at, insertion order). Entries are objects that
 * know their slot, so a move is one array write and one field write, and the key map is only
 * touched on insert and delete.
 */
export class IndexedMinHeap {
  private readonly heap: HeapEntry[] = [];
  private readonly index = new Map<string, HeapEntry>();
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  /** Sequence number the next set() will use; entries with a smaller one were set before now. */
  get nextSeq(): number {
    return this.seq;
  }

  has(key: string): boolean {
    return this.index.has(key);
  }

  get(key: string): number | undefined {
    return this.index.get(key)?.at;
  }

  /** Inserts `key` or moves it to `at`. An update counts as newest among equal times. */
  set(key: string, at: number): void {
    if (Number.isNaN(at)) throw new RangeError(`timer-queue: NaN fire time for ${key}`);
    const seq = this.seq++;
    const e = this.index.get(key);
    if (e === undefined) {
      const entry: HeapEntry = { key, at, seq, pos: this.heap.length };
      this.heap.push(entry);
      this.index.set(key, entry);
      this.up(entry);
      return;
    }
    const earlier = at < e.at;
    e.at = at;
    e.seq = seq;
    if (earlier) this.up(e);
    else this.down(e);
  }

  delete(key: string): boolean {
    const e = this.index.get(key);
    if (e === undefined) return false;
    this.remove(e);
    return true;
  }

  peekKey(): string | undefined {
    return this.heap[0]?.key;
  }

  /** Earliest fire time, or undefined when empty. */
  peekTime(): number | undefined {
    return this.heap[0]?.at;
  }

  peek(): { key: string; at: number } | undefined {
    const top = this.heap[0];
    return top === undefined ? undefined : { key: top.key, at: top.at };
  }

  pop(): { key: string; at: number; seq: number } | undefined {
    const top = this.heap[0];
    if (top === undefined) return undefined;
    this.remove(top);
    return { key: top.key, at: top.at, seq: top.seq };
  }

  clear(): void {
    this.heap.length = 0;
    this.index.clear();
  }

  private remove(e: HeapEntry): void {
    this.index.delete(e.key);
    const last = this.heap.pop()!;
    if (last === e) return; // it was in the last slot
    // Move the former last entry into the gap and restore order in whichever direction it needs.
    this.heap[e.pos] = last;
    last.pos = e.pos;
    this.up(last);
    if (last.pos === e.pos) this.down(last);
  }

  /** Moves `e` towards the root; a hole travels up, so each step is one write. */
  private up(e: HeapEntry): void {
    const heap = this.heap;
    let i = e.pos;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = heap[p]!;
      if (!before(e, parent)) break;
      heap[i] = parent;
      parent.pos = i;
      i = p;
    }
    heap[i] = e;
    e.pos = i;
  }

  /** Moves `e` towards the leaves. */
  private down(e: HeapEntry): void {
    const heap = this.heap;
    const n = heap.length;
    let i = e.pos;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const c = l + 1 < n && before(heap[l + 1]!, heap[l]!) ? l + 1 : l;
      const child = heap[c]!;
      if (!before(child, e)) break;
      heap[i] = child;
      child.pos = i;
      i = c;
    }
    heap[i] = e;
    e.pos = i;
  }
}

export type OnDue = (key: string, atMs: number) => void;

export class TimerQueue {
  private readonly heap = new IndexedMinHeap();
  private readonly clock: TimerClock;
  private handle: unknown = undefined;
  /** The earliest fire time the armed timer is working towards (possibly via chunks). */
  private armedFor: number | undefined = undefined;
  private running = false;
  private firing = false;
  private armQueued = false;
  private readonly onDue: OnDue;
  private readonly onError: (err: unknown, key: string) => void;

  /**
   * @param onDue called for each entry whose time has come, after it is removed from the queue;
   *   it may set() the same key again (a time <= now then fires on the next wake, not this one).
   * @param clock injectable for tests; defaults to Date.now and the global timers.
   * @param onError receives exceptions thrown by onDue (default: a process warning); firing goes on.
   */
  constructor(onDue: OnDue, clock?: TimerClock, onError?: (err: unknown, key: string) => void) {
    this.onDue = onDue;
    this.clock = clock ?? realClock;
    this.onError = onError ?? ((err, key) => process.emitWarning(`timer-queue: onDue(${key}) threw: ${String(err)}`));
  }

  get size(): number {
    return this.heap.size;
  }

  get isRunning(): boolean {
    return this.running;
  }

  has(key: string): boolean {
    return this.heap.has(key);
  }

  get(key: string): number | undefined {
    return this.heap.get(key);
  }

  peek(): { key: string; at: number } | undefined {
    return this.heap.peek();
  }

  /** Inserts or moves `key` to fire at `atMs` (epoch ms; a time in the past fires on the next wake). */
  set(key: string, atMs: number): void {
    this.heap.set(key, atMs);
    this.rootMayHaveChanged();
  }

  delete(key: string): boolean {
    const had = this.heap.delete(key);
    if (had) this.rootMayHaveChanged();
    return had;
  }

  clear(): void {
    this.heap.clear();
    this.rootMayHaveChanged();
  }

  start(): void {
    this.running = true;
    this.arm();
  }

  stop(): void {
    this.running = false;
    this.disarm();
  }

  private rootMayHaveChanged(): void {
    if (!this.running || this.firing || this.armQueued) return;
    if (this.heap.peekTime() === this.armedFor) return;
    this.armQueued = true;
    queueMicrotask(() => {
      this.armQueued = false;
      if (this.running && !this.firing) this.arm();
    });
  }

  private disarm(): void {
    if (this.handle !== undefined) this.clock.clearTimeout(this.handle);
    this.handle = undefined;
    this.armedFor = undefined;
  }

  /** Points the timer at the current earliest entry; a no-op when it already does. */
  private arm(): void {
    if (!this.running) return;
    const at = this.heap.peekTime();
    if (at === this.armedFor && (at === undefined || this.handle !== undefined)) return;
    this.disarm();
    if (at === undefined) return;
    const delay = Math.min(Math.max(at - this.clock.now(), 0), MAX_TIMER_DELAY_MS);
    this.armedFor = at;
    this.handle = this.clock.setTimeout(this.wake, delay);
  }

  private readonly wake = (): void => {
    this.handle = undefined;
    this.armedFor = undefined;
    if (!this.running) return;
    this.firing = true;
    try {
      this.fireDue();
    } finally {
      this.firing = false;
      this.arm();
    }
  };

  private fireDue(): void {
    // Entries (re)set by a callback during this round wait for the next wake, so a callback
    // that keeps scheduling into the past cannot starve the event loop.
    const roundStart = this.heap.nextSeq;
    const deferred: Array<[string, number]> = [];
    let now = this.clock.now();
    for (;;) {
      const at = this.heap.peekTime();
      if (at === undefined) break;
      if (at > now) {
        now = this.clock.now();
        if (at > now) break;
      }
      const e = this.heap.pop()!;
      if (e.seq >= roundStart) {
        deferred.push([e.key, e.at]);
        continue;
      }
      try {
        this.onDue(e.key, e.at);
      } catch (err) {
        this.onError(err, e.key);
      }
      if (!this.running) break;
    }
    for (const [key, at] of deferred) if (!this.heap.has(key)) this.heap.set(key, at);
  }
}
