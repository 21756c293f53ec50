// `dkron agent` options as parsed from flags and DKRON_* environment variables
// (flags win). Values stay raw strings/arrays; the agent converts and validates
// their meaning. Only the syntax (k=v, integers, booleans) is checked here.
import { UsageError } from "./errors.js";
import { splitList } from "./parse.js";
import type { RawAgentOptions } from "../server/config.js";

/** The raw options are the agent's own input type: one definition for both sides. */
export type AgentCliOptions = RawAgentOptions;

type ListKey = "join" | "retryJoin" | "tag" | "natsUrl" | "webhookHeaders" | "preWebhookHeaders";
type ScalarKey = Exclude<keyof AgentCliOptions, "server" | ListKey>;

/** The flags as commander hands them over (only the given ones are set; lists default to []). */
export type AgentFlags = Partial<AgentCliOptions>;

export const AGENT_SCALARS: readonly ScalarKey[] = [
  "nodeName",
  "dataDir",
  "httpAddr",
  "bindAddr",
  "advertiseAddr",
  "rpcPort",
  "bootstrapExpect",
  "natsServerBin",
  "encrypt",
  "apiToken",
  "logLevel",
  "logFile",
  "webhookEndpoint",
  "webhookPayload",
  "preWebhookEndpoint",
  "preWebhookPayload",
  "mailHost",
  "mailPort",
  "mailUsername",
  "mailPassword",
  "mailFrom",
  "mailPayload",
  "mailSubjectPrefix",
];
export const AGENT_LISTS: readonly ListKey[] = ["join", "retryJoin", "tag", "natsUrl", "webhookHeaders", "preWebhookHeaders"];

/** `dataDir` → `DKRON_DATA_DIR` (the flag `--data-dir` with `-` → `_`). */
export const envNameOf = (key: string): string => `DKRON_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;

const INTEGER_KEYS: ReadonlySet<ScalarKey> = new Set(["rpcPort", "bootstrapExpect", "mailPort"]);

function parseBool(name: string, raw: string): boolean {
  const v = raw.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(v)) return true;
  if (["", "0", "false", "no", "off"].includes(v)) return false;
  throw new UsageError(`${name}: expected true or false, got ${JSON.stringify(raw)}`);
}

export function resolveAgentOptions(flags: AgentFlags, env: Record<string, string | undefined>): AgentCliOptions {
  const serverEnv = env[envNameOf("server")];
  const out: AgentCliOptions = {
    server: flags.server === true || (serverEnv !== undefined && parseBool("DKRON_SERVER", serverEnv)),
    join: [],
    retryJoin: [],
    tag: [],
    natsUrl: [],
    webhookHeaders: [],
    preWebhookHeaders: [],
  };
  for (const key of AGENT_SCALARS) {
    const fromFlag = flags[key];
    const envName = envNameOf(key);
    const value = fromFlag ?? (env[envName] !== undefined && env[envName] !== "" ? env[envName] : undefined);
    if (value === undefined) continue;
    if (INTEGER_KEYS.has(key) && !/^\d+$/.test(value.trim())) {
      const src = fromFlag !== undefined ? `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` : envName;
      throw new UsageError(`${src}: expected a non-negative integer, got ${JSON.stringify(value)}`);
    }
    out[key] = INTEGER_KEYS.has(key) ? value.trim() : value;
  }
  for (const key of AGENT_LISTS) {
    const given = flags[key];
    if (given && given.length > 0) {
      out[key] = [...given];
      continue;
    }
    const envName = envNameOf(key);
    const list = splitList(env[envName]);
    if (key === "tag") {
      for (const kv of list) {
        if (kv.indexOf("=") <= 0) throw new UsageError(`${envName}: expected k=v[,k2=v2], got ${JSON.stringify(kv)}`);
      }
    }
    out[key] = list;
  }
  return out;
}
