// Job names are lowercase Unicode (Dkron's rule), but NATS KV keys allow only
// [-/_=.a-zA-Z0-9]. Names are encoded once, here: ASCII-safe names stay as
// they are; any other character becomes =XX per UTF-8 byte ('=' never occurs
// in a job name, so the encoding is unambiguous and reversible).
import type { KV, KvEntry, KvWatchOptions, Payload } from "nats";

const SAFE = /^[A-Za-z0-9_-]+$/;

export function jobKey(name: string): string {
  if (SAFE.test(name)) return name;
  let out = "";
  for (const ch of name) {
    if (/[A-Za-z0-9_-]/.test(ch)) out += ch;
    else for (const b of Buffer.from(ch, "utf8")) out += `=${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

export function jobFromKey(key: string): string {
  if (!key.includes("=")) return key;
  return key.replace(/(?:=[0-9A-F]{2})+/g, (m) => Buffer.from(m.replace(/=/g, ""), "hex").toString("utf8"));
}

export interface KvEntryLike {
  key: string;
  value: Uint8Array;
  revision: number;
  operation: KvEntry["operation"];
}

export interface WatchLike extends AsyncIterable<KvEntryLike> {
  stop(): void;
}

/** The KV operations dkron uses, addressed by job name. */
export interface JobKv {
  get(name: string): Promise<KvEntryLike | null>;
  create(name: string, data: Payload): Promise<number>;
  update(name: string, data: Payload, version: number): Promise<number>;
  delete(name: string): Promise<void>;
  purge(name: string): Promise<void>;
  watch(opts?: KvWatchOptions): Promise<WatchLike>;
  /** Sequence of the bucket stream's last message (for stall detection). */
  lastSeq(): Promise<number>;
}

const copy = (e: KvEntry): KvEntryLike => ({ key: jobFromKey(e.key), value: e.value, revision: e.revision, operation: e.operation });

export function jobKv(kv: KV): JobKv {
  return {
    get: async (name) => {
      const e = await kv.get(jobKey(name));
      return e && copy(e);
    },
    create: (name, data) => kv.create(jobKey(name), data),
    update: (name, data, version) => kv.update(jobKey(name), data, version),
    delete: (name) => kv.delete(jobKey(name)),
    purge: (name) => kv.purge(jobKey(name)),
    lastSeq: async () => (await kv.status()).streamInfo.state.last_seq,
    watch: async (opts) => {
      const w = await kv.watch(opts);
      return {
        stop: () => w.stop(),
        async *[Symbol.asyncIterator]() {
          for await (const e of w) yield copy(e);
        },
      };
    },
  };
}
