// Poll until a condition holds. Tests wait with this, never with fixed sleeps.

export interface UntilOptions {
  /** Give up after this long (default 15000 ms). */
  timeoutMs?: number;
  /** Pause between attempts (default 50 ms). */
  intervalMs?: number;
  /** Says what was awaited, in the timeout error. */
  message?: string;
}

/**
 * Calls fn until it returns a truthy value and resolves with it. A throw counts as "not yet";
 * on timeout, rejects with an Error naming `message` and the last error thrown.
 */
export async function until<T>(fn: () => T | Promise<T>, opts: UntilOptions = {}): Promise<NonNullable<T>> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const intervalMs = opts.intervalMs ?? 50;
  const started = Date.now();
  const deadline = started + timeoutMs;
  let lastErr: unknown;
  let attempts = 0;
  for (;;) {
    attempts++;
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, Math.min(intervalMs, Math.max(0, deadline - Date.now()))));
  }
  const what = opts.message ?? "condition";
  const last = lastErr === undefined ? "" : `; last error: ${lastErr instanceof Error ? lastErr.message : String(lastErr)}`;
  throw new Error(`timed out after ${Date.now() - started} ms (${attempts} attempts) waiting for ${what}${last}`, {
    cause: lastErr,
  });
}
