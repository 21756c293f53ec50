// Reads every current entry of a KV bucket with one watcher (one consumer),
// not one request per key: 10,000 claims load in a fraction of a second.
import { KvWatchInclude } from "nats";
import type { JobKv } from "../store/job-kv.js";

export async function loadBucket(kv: JobKv): Promise<Map<string, { value: Uint8Array | null; revision: number }>> {
  const out = new Map<string, { value: Uint8Array | null; revision: number }>();
  let done!: () => void;
  const initialized = new Promise<void>((r) => (done = r));
  const w = await kv.watch({ include: KvWatchInclude.LastValue, initializedFn: () => done() });
  void (async () => {
    for await (const e of w) out.set(e.key, { value: e.operation === "PUT" ? e.value : null, revision: e.revision });
  })();
  await initialized;
  w.stop();
  return out;
}
