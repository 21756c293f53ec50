// WebSocket side of the client: the cluster event stream (/v1/events) and the
// live output of one execution. Typed events, reconnect with backoff. `ws` is
// imported lazily so CLI commands that never open a socket don't load it.
import type { IncomingMessage } from "node:http";
import type WebSocket from "ws";
import type { Execution } from "../shared/execution.js";
import type { Job } from "../shared/job.js";
import type { Member } from "../shared/member.js";
import { API } from "../shared/paths.js";

export type ClusterEvent =
  | { type: "hello"; node: string; leader: string }
  | { type: "job"; op: "put"; job: Job }
  | { type: "job"; op: "delete"; name: string }
  | { type: "execution"; execution: Execution }
  | { type: "member"; member: Member }
  | { type: "leader"; leader: string };

export type OutputEvent = { type: "output"; data: string } | { type: "end" };

export const EVENTS_PATH = `${API.root}/events`;
export const outputPath = (job: string, id: string): string => `${API.jobExecution(job, id)}/output`;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): v is string => typeof v === "string";

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return isObj(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** One server message → a typed event; undefined for malformed or unknown ones (ignored, for forward compatibility). */
export function parseClusterEvent(text: string): ClusterEvent | undefined {
  const m = parseJson(text);
  if (!m) return undefined;
  switch (m.type) {
    case "hello":
      return str(m.node) ? { type: "hello", node: m.node, leader: str(m.leader) ? m.leader : "" } : undefined;
    case "job":
      if (m.op === "put" && isObj(m.job) && str(m.job.name)) return { type: "job", op: "put", job: m.job as unknown as Job };
      if (m.op === "delete" && str(m.name)) return { type: "job", op: "delete", name: m.name };
      return undefined;
    case "execution": {
      const e = m.execution;
      return isObj(e) && str(e.id) && str(e.job_name) ? { type: "execution", execution: e as unknown as Execution } : undefined;
    }
    case "member":
      return isObj(m.member) && str(m.member.Name) ? { type: "member", member: m.member as unknown as Member } : undefined;
    case "leader":
      // null while no leader is elected.
      return str(m.leader) ? { type: "leader", leader: m.leader } : m.leader === null ? { type: "leader", leader: "" } : undefined;
    default:
      return undefined;
  }
}

export function parseOutputEvent(text: string): OutputEvent | undefined {
  const m = parseJson(text);
  if (m?.type === "output" && str(m.data)) return { type: "output", data: m.data };
  if (m?.type === "end") return { type: "end" };
  return undefined;
}

/** http://h:p/prefix + /v1/events → ws://h:p/prefix/v1/events (https → wss). */
export const wsUrl = (address: string, path: string): string => address.replace(/^http/i, "ws") + path;

export interface Backoff {
  initialMs: number;
  maxMs: number;
  /** ± fraction of randomness, so many clients don't reconnect in step. Default 0.2. */
  jitter?: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 500, maxMs: 15_000 };

/** Delay before reconnect attempt `attempt` (1-based): doubling from initialMs, capped, jittered. */
export function backoffDelay(attempt: number, b: Backoff, random: () => number = Math.random): number {
  const base = Math.min(b.maxMs, b.initialMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  const jitter = b.jitter ?? 0.2;
  return Math.max(0, Math.round(base * (1 - jitter + 2 * jitter * random())));
}

export type LinkState = "connecting" | "open" | "down";

export interface LinkStatus {
  state: LinkState;
  /** Failed attempts since the last successful connect. */
  attempt: number;
  error?: string;
  /** Set when down: when the next attempt is due. */
  retryInMs?: number;
}

export interface SocketOptions {
  token?: string;
  /** Give up on a connect (and on an unanswered ping) after this long. Default 5 s. */
  timeoutMs?: number;
}

let wsModule: Promise<typeof import("ws")> | undefined;
const loadWs = () => (wsModule ??= import("ws"));

async function openSocket(url: string, opts: SocketOptions): Promise<WebSocket> {
  const { default: WS } = await loadWs();
  return new WS(url, {
    handshakeTimeout: opts.timeoutMs ?? 5000,
    headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
  });
}

const errorText = (err: unknown): string => {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  if (e && e.code === "ECONNREFUSED") return "connection refused";
  return e && typeof e.message === "string" && e.message ? e.message : String(err);
};

export interface EventStreamOptions extends SocketOptions {
  /** The API address as DkronClient normalises it (http://host:port). */
  address: string;
  onEvent(event: ClusterEvent): void;
  onStatus?(status: LinkStatus): void;
  backoff?: Backoff;
  random?: () => number;
  /** Ping period that detects half-open connections. Default 15 s. */
  pingMs?: number;
}

export interface Subscription {
  close(): void;
}

/** Subscribes to /v1/events and keeps reconnecting (with backoff) until closed. */
export function subscribeEvents(opts: EventStreamOptions): Subscription {
  const url = wsUrl(opts.address, EVENTS_PATH);
  const backoff = opts.backoff ?? DEFAULT_BACKOFF;
  let closed = false;
  let attempt = 0;
  let socket: WebSocket | undefined;
  let retry: NodeJS.Timeout | undefined;
  let ping: NodeJS.Timeout | undefined;
  const status = (s: LinkStatus) => {
    if (!closed) opts.onStatus?.(s);
  };

  const scheduleRetry = (error: string) => {
    if (closed || retry) return;
    clearInterval(ping);
    socket = undefined;
    attempt++;
    const delay = backoffDelay(attempt, backoff, opts.random);
    status({ state: "down", attempt, error, retryInMs: delay });
    retry = setTimeout(() => {
      retry = undefined;
      void connect();
    }, delay);
    retry.unref?.();
  };

  const connect = async () => {
    if (closed) return;
    status({ state: "connecting", attempt });
    let ws: WebSocket;
    try {
      ws = await openSocket(url, opts);
    } catch (err) {
      scheduleRetry(errorText(err));
      return;
    }
    if (closed) return ws.terminate();
    socket = ws;
    let alive = true;
    let lastError: string | undefined;
    ws.on("unexpected-response", (_req, res: IncomingMessage) => {
      lastError = `HTTP ${res.statusCode ?? "?"} from ${EVENTS_PATH}`;
      res.resume();
      ws.terminate();
    });
    ws.on("error", (err) => {
      lastError ??= errorText(err);
    });
    ws.on("open", () => {
      attempt = 0;
      status({ state: "open", attempt: 0 });
      ping = setInterval(() => {
        if (!alive) return ws.terminate();
        alive = false;
        ws.ping();
      }, opts.pingMs ?? 15_000);
      ping.unref?.();
    });
    ws.on("pong", () => (alive = true));
    ws.on("message", (data, isBinary) => {
      alive = true;
      if (isBinary) return;
      const event = parseClusterEvent(data.toString());
      if (event && !closed) opts.onEvent(event);
    });
    ws.on("close", (code) => {
      if (socket === ws) scheduleRetry(lastError ?? `closed (${code})`);
    });
  };

  void connect();
  return {
    close() {
      closed = true;
      clearTimeout(retry);
      clearInterval(ping);
      socket?.terminate();
      socket = undefined;
    },
  };
}

export interface OutputStreamOptions extends SocketOptions {
  address: string;
  job: string;
  id: string;
  /** Called once the socket is up: the server then replays the output so far, so the caller starts afresh. */
  onOpen?(): void;
  onData(chunk: string): void;
  onEnd(): void;
  /** The socket could not be used (no such endpoint yet, refused, dropped): fall back to polling. */
  onUnavailable(reason: string): void;
}

/** Follows one execution's output; one attempt, no reconnect (the caller polls instead). */
export function followOutput(opts: OutputStreamOptions): Subscription {
  let closed = false;
  let done = false;
  let socket: WebSocket | undefined;
  const finish = (fn: () => void) => {
    if (done || closed) return;
    done = true;
    fn();
    socket?.terminate();
  };
  void openSocket(wsUrl(opts.address, outputPath(opts.job, opts.id)), opts).then(
    (ws) => {
      if (closed) return ws.terminate();
      socket = ws;
      let lastError: string | undefined;
      ws.on("unexpected-response", (_req, res: IncomingMessage) => {
        lastError = `HTTP ${res.statusCode ?? "?"}`;
        res.resume();
        ws.terminate();
      });
      ws.on("error", (err) => (lastError ??= errorText(err)));
      ws.on("open", () => !closed && opts.onOpen?.());
      ws.on("message", (data, isBinary) => {
        if (isBinary || done || closed) return;
        const ev = parseOutputEvent(data.toString());
        if (ev?.type === "output") opts.onData(ev.data);
        else if (ev?.type === "end") finish(opts.onEnd);
      });
      ws.on("close", (code) => finish(() => opts.onUnavailable(lastError ?? `closed (${code})`)));
    },
    (err: unknown) => finish(() => opts.onUnavailable(errorText(err))),
  );
  return {
    close() {
      closed = true;
      socket?.terminate();
    },
  };
}
