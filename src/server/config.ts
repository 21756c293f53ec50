// The agent's resolved configuration, and the checks that keep it safe by
// default: nothing listens beyond loopback without a shared secret.
import { hostname } from "node:os";
import { DkronError } from "../shared/errors.js";
import { LOG_LEVELS, type LogLevel } from "./logger.js";
import type { NotifyConfig } from "./notify/index.js";

export interface AgentConfig {
  server: boolean;
  nodeName: string;
  dataDir: string;
  httpHost: string;
  httpPort: number;
  bindHost: string;
  bindPort: number;
  advertiseAddr: string;
  rpcPort: number;
  bootstrapExpect: number;
  join: string[];
  retryJoin: string[];
  tags: Record<string, string>;
  natsUrls: string[];
  natsServerBin?: string;
  encrypt?: string;
  apiToken?: string;
  logLevel: LogLevel;
  logFile?: string;
  notify: Partial<NotifyConfig>;
  leaseTtlMs: number;
  executionsPerJob: number;
  shutdownTimeoutMs: number;
}

/** `dkron agent` options as given (flags, then DKRON_* env): raw strings and lists. */
export interface RawAgentOptions {
  server: boolean;
  nodeName?: string;
  dataDir?: string;
  httpAddr?: string;
  bindAddr?: string;
  advertiseAddr?: string;
  /** Decimal integer as typed. */
  rpcPort?: string;
  /** Decimal integer as typed. */
  bootstrapExpect?: string;
  join: string[];
  retryJoin: string[];
  /** Raw `k=v` strings. */
  tag: string[];
  natsUrl: string[];
  natsServerBin?: string;
  encrypt?: string;
  apiToken?: string;
  logLevel?: string;
  logFile?: string;
  webhookEndpoint?: string;
  webhookPayload?: string;
  preWebhookEndpoint?: string;
  preWebhookPayload?: string;
  mailHost?: string;
  mailPort?: string;
  mailUsername?: string;
  mailPassword?: string;
  mailFrom?: string;
  mailPayload?: string;
  mailSubjectPrefix?: string;
  webhookHeaders: string[];
  preWebhookHeaders: string[];
}

const usage = (message: string) => new DkronError("invalid_argument", message);

export function parseHostPort(raw: string, defaultPort: number, what: string): { host: string; port: number } {
  let host = raw.trim();
  let port = defaultPort;
  const m = /^(?:\[([^\]]+)\]|([^:]*))(?::(\d+))?$/.exec(host);
  if (!m) throw usage(`${what}: expected HOST[:PORT], got ${JSON.stringify(raw)}`);
  host = m[1] ?? m[2] ?? "";
  if (m[3] !== undefined) port = Number(m[3]);
  if (!host) host = "0.0.0.0";
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw usage(`${what}: port out of range in ${JSON.stringify(raw)}`);
  return { host, port };
}

export const isLoopback = (host: string): boolean =>
  host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);

export function resolveConfig(o: RawAgentOptions, env: NodeJS.ProcessEnv = process.env): AgentConfig {
  const http = parseHostPort(o.httpAddr ?? "127.0.0.1:8080", 8080, "--http-addr");
  const bind = parseHostPort(o.bindAddr ?? "127.0.0.1:8946", 8946, "--bind-addr");
  const rpcPort = o.rpcPort === undefined ? 6868 : Number(o.rpcPort);
  if (!Number.isInteger(rpcPort) || rpcPort < 0 || rpcPort > 65535) throw usage(`--rpc-port: out of range: ${o.rpcPort}`);
  const bootstrapExpect = o.bootstrapExpect === undefined ? 1 : Number(o.bootstrapExpect);
  if (!Number.isInteger(bootstrapExpect) || bootstrapExpect < 1) throw usage("--bootstrap-expect: must be at least 1");
  const tags: Record<string, string> = {};
  for (const kv of o.tag) {
    const i = kv.indexOf("=");
    if (i <= 0) throw usage(`--tag: expected k=v, got ${JSON.stringify(kv)}`);
    tags[kv.slice(0, i)] = kv.slice(i + 1);
  }
  const logLevel = (o.logLevel ?? "info").toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw usage(`--log-level: must be one of ${LOG_LEVELS.join(", ")}, got ${JSON.stringify(o.logLevel)}`);
  }
  // Host names may carry dots (FQDNs), which are not allowed in NATS subject tokens.
  const nodeName = o.nodeName ?? (hostname().replace(/[^A-Za-z0-9_-]+/g, "-").replace(/^-+|-+$/g, "") || "dkron");
  if (!/^[A-Za-z0-9_-]+$/.test(nodeName)) {
    throw usage(`--node-name: may contain only letters, digits, '_' and '-', got ${JSON.stringify(nodeName)}`);
  }
  const exposed = [http.host, bind.host].filter((h) => !isLoopback(h));
  if (exposed.length && !o.encrypt) {
    throw usage(`refusing to listen on ${exposed.join(", ")} without a shared secret: pass --encrypt KEY (or DKRON_ENCRYPT) on every node`);
  }
  return {
    server: o.server,
    nodeName,
    dataDir: o.dataDir ?? "dkron.data",
    httpHost: http.host,
    httpPort: http.port,
    bindHost: bind.host,
    bindPort: bind.port,
    advertiseAddr: o.advertiseAddr ?? `${bind.host}:${bind.port}`,
    rpcPort,
    bootstrapExpect,
    join: o.join,
    retryJoin: o.retryJoin,
    tags,
    natsUrls: o.natsUrl,
    natsServerBin: o.natsServerBin,
    encrypt: o.encrypt,
    apiToken: o.apiToken,
    logLevel: logLevel as LogLevel,
    logFile: o.logFile,
    notify: {
      nodeName,
      webhookEndpoint: o.webhookEndpoint,
      webhookPayload: o.webhookPayload,
      webhookHeaders: o.webhookHeaders ?? [],
      preWebhookEndpoint: o.preWebhookEndpoint,
      preWebhookPayload: o.preWebhookPayload,
      preWebhookHeaders: o.preWebhookHeaders ?? [],
      mailHost: o.mailHost,
      mailPort: o.mailPort === undefined ? undefined : Number(o.mailPort),
      mailUsername: o.mailUsername,
      mailPassword: o.mailPassword,
      mailFrom: o.mailFrom,
      mailPayload: o.mailPayload,
      ...(o.mailSubjectPrefix !== undefined ? { mailSubjectPrefix: o.mailSubjectPrefix } : {}),
    },
    leaseTtlMs: intEnv(env, "DKRON_LEASE_TTL_MS", 2_000, 500),
    executionsPerJob: intEnv(env, "DKRON_EXECUTIONS_PER_JOB", 100, 1),
    shutdownTimeoutMs: intEnv(env, "DKRON_SHUTDOWN_TIMEOUT_MS", 30_000),
  };
}

function intEnv(env: NodeJS.ProcessEnv, name: string, dflt: number, min = 0): number {
  const v = env[name];
  if (v === undefined || v === "") return dflt;
  if (!/^\d+$/.test(v)) throw usage(`${name}: expected a whole number, got ${JSON.stringify(v)}`);
  if (Number(v) < min) throw usage(`${name}: must be at least ${min}, got ${v}`);
  return Number(v);
}
