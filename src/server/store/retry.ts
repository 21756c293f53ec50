// The one retry loop for store operations that must eventually succeed
// (creating the store while a cluster forms, re-subscribing after a
// reconnect): exponential backoff, a warning per failure, and a way out.
import type { Logger } from "../logger.js";

export interface RetryOptions {
  /** Said in the warning: "<what> failed; retrying". */
  what: string;
  log: Logger;
  /** Extra fields for the warning. */
  fields?: Record<string, unknown>;
  /** Stop trying (resolving undefined) once this turns false. */
  wanted?: () => boolean;
  /** Give up and rethrow the last error after this long. */
  timeoutMs?: number;
  baseMs?: number;
  maxMs?: number;
}

export async function retryWithBackoff<T>(fn: () => Promise<T>, o: RetryOptions): Promise<T | undefined> {
  const deadline = Date.now() + (o.timeoutMs ?? Infinity);
  for (let attempt = 0; o.wanted?.() ?? true; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      o.log.warn({ ...o.fields, err: (err as Error).message, attempt }, `${o.what} failed; retrying`);
      await new Promise((r) => setTimeout(r, Math.min(o.maxMs ?? 2_000, (o.baseMs ?? 100) * 2 ** attempt)));
    }
  }
  return undefined;
}
