// A watchdog for JetStream consumers. When the server that hosted a consumer
// dies, the client library can sit waiting for messages that will never come
// (seen here: followers' ordered consumers stayed silent for minutes after a
// kill -9 of the leader's node). Every `intervalMs` we compare how far we got
// with what the stream has; no progress while behind for `stallMs` → restart.
import type { Logger } from "../logger.js";
import { withTimeout } from "./timeout.js";

export interface StallWatchOptions {
  name: string;
  /** A number that grows as messages are applied (a sequence, a counter). */
  progress(): number;
  /** Whether there is more in the stream than we have applied. */
  behind(): Promise<boolean>;
  onStall(): Promise<void> | void;
  log: Logger;
  intervalMs?: number;
  stallMs?: number;
}

export function watchForStall(o: StallWatchOptions): () => void {
  const intervalMs = o.intervalMs ?? 1_000;
  const stallMs = o.stallMs ?? 3_000;
  let last = o.progress();
  let lastMoved = Date.now();
  let busy = false;
  const timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      const now = Date.now();
      const p = o.progress();
      if (p !== last) {
        last = p;
        lastMoved = now;
        return;
      }
      if (!(await o.behind())) {
        lastMoved = now;
        return;
      }
      if (now - lastMoved >= stallMs) {
        o.log.warn({ consumer: o.name, stalledMs: now - lastMoved }, "consumer stalled; restarting it");
        lastMoved = now;
        // Bounded: a restart that hangs must not stop the watch for good.
        await withTimeout(Promise.resolve(o.onStall()), 10_000, `restarting ${o.name}`);
      }
    } catch (err) {
      o.log.debug({ err: (err as Error).message, consumer: o.name }, "stall check failed");
    } finally {
      busy = false;
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
