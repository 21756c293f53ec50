// Client calls that may never settle (a consumer being created on a server that
// just died) must not hold a loop forever: race them against a deadline. When
// the call settles late, `onLate` gets its value so it can be released.
export class TimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what}: no answer within ${ms} ms`);
    this.name = "TimeoutError";
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string, onLate?: (value: T) => void): Promise<T> {
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      reject(new TimeoutError(what, ms));
    }, ms);
  });
  p.then((v) => timedOut && onLate?.(v), () => undefined);
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}
