// The nats executor, with Dkron's executor_config keys (builtin/bins/dkron-executor-nats):
// url, subject, message, userName, password, debug. Connects, publishes one message,
// flushes and closes. Unlike Dkron, which reports success before the publish has been
// flushed, a run succeeds only once the server has seen the message (flush round trip).
import { connect, type ConnectionOptions, type NatsConnection } from "nats";
import { invalid } from "../../shared/errors.js";
import { abortReason, now, waitForStart } from "./http.js";
import type { ExecutionContext, ExecutionResult, Executor } from "./types.js";

const CONNECT_TIMEOUT_MS = 10_000;
const FLUSH_TIMEOUT_MS = 30_000;

/** Dkron passes `url` to nats.Connect, which takes a comma-separated list of servers. */
function parseServers(s: string | undefined): string[] {
  const servers = (s ?? "").split(",").map((u) => u.trim()).filter(Boolean);
  if (!servers.length) throw invalid("executor_config.url", "is empty");
  for (const u of servers) {
    const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(u) ? u : `nats://${u}`;
    let url: URL;
    try {
      url = new URL(withScheme);
    } catch {
      throw invalid("executor_config.url", `not a NATS server URL: ${JSON.stringify(u)}`);
    }
    if (!["nats:", "tls:"].includes(url.protocol) || !url.hostname) {
      throw invalid("executor_config.url", `not a NATS server URL (nats://host:port or tls://host:port): ${JSON.stringify(u)}`);
    }
  }
  return servers;
}

/** A publish subject: dot-separated non-empty tokens, no whitespace, no wildcards. */
function checkSubject(s: string | undefined): string {
  if (!s) throw invalid("executor_config.subject", "is empty");
  if (/\s/.test(s) || s.split(".").some((t) => t === "" || t === "*" || t === ">")) {
    throw invalid("executor_config.subject", `not a publish subject (tokens separated by '.', no spaces or wildcards): ${JSON.stringify(s)}`);
  }
  return s;
}

function validate(cfg: Record<string, string>): void {
  parseServers(cfg.url);
  checkSubject(cfg.subject);
  if (cfg.password && !cfg.userName) throw invalid("executor_config.userName", "is required with password");
}

const failed = (reason: string): ExecutionResult => ({ success: false, exitCode: null, reason });

/** Settles with the promise, or with `null` as soon as the signal aborts. */
function unlessAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T | null> {
  if (signal.aborted) return Promise.resolve(null);
  return new Promise<T | null>((resolve, reject) => {
    const onAbort = () => resolve(null);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

async function run(ctx: ExecutionContext): Promise<ExecutionResult> {
  const cfg = ctx.job.executor_config;
  let servers: string[];
  let subject: string;
  try {
    servers = parseServers(cfg.url);
    subject = checkSubject(cfg.subject);
  } catch (err) {
    return failed((err as Error).message);
  }
  if (!(await waitForStart(ctx.startAt, ctx.signal))) return failed(abortReason(ctx.signal));
  ctx.onStarted?.(now());
  const debug = !!cfg.debug;
  const out = (s: string) => ctx.onOutput(Buffer.from(s));
  const opts: ConnectionOptions = {
    servers,
    name: `dkron-${ctx.job.name}`,
    timeout: CONNECT_TIMEOUT_MS,
    reconnect: false,
    ...(cfg.userName ? { user: cfg.userName, pass: cfg.password ?? "" } : {}),
    ...(servers.some((s) => s.startsWith("tls://")) ? { tls: {} } : {}),
  };
  const connecting = connect(opts);
  let nc: NatsConnection | null = null;
  try {
    nc = await unlessAborted(connecting, ctx.signal);
    if (!nc) {
      // Close the connection should it still come up after the kill.
      connecting.then((c) => c.close().catch(() => undefined), () => undefined);
      return failed(abortReason(ctx.signal));
    }
    if (debug) out(`Connected to ${nc.getServer()}\n`);
    const data = Buffer.from(cfg.message ?? "");
    nc.publish(subject, data);
    let timer: NodeJS.Timeout | undefined;
    const flushed = await unlessAborted(
      Promise.race([
        nc.flush().then(() => true),
        new Promise<false>((resolve) => (timer = setTimeout(resolve, FLUSH_TIMEOUT_MS, false))),
      ]),
      ctx.signal,
    ).finally(() => clearTimeout(timer));
    if (flushed === null) return failed(abortReason(ctx.signal));
    if (!flushed) return failed(`no flush acknowledgement from ${nc.getServer()} within ${FLUSH_TIMEOUT_MS / 1000}s`);
    if (debug) out(`Published ${data.length} bytes to ${JSON.stringify(subject)}\n`);
    out("Result: Message successfully sent\n");
    return { success: true, exitCode: null };
  } catch (err) {
    return failed(`nats ${servers.join(",")}: ${(err as Error).message}`);
  } finally {
    await nc?.close().catch(() => undefined);
  }
}

export const natsExecutor: Executor = { required: ["url", "subject"], validate, run };
