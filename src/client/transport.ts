// The one place the client touches the network: an HTTP request with a
// deadline, and the mapping of every failure to a DkronError the CLI can turn
// into an exit code. node:http rather than fetch: fetch loads undici on first
// use (60–80 ms of CLI start-up) and refuses the WHATWG "bad ports".
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";
import { DkronError, ERROR_STATUS, statusToCode, type ErrorCode } from "../shared/errors.js";

export interface TransportOptions {
  /** Base URL, normalised: scheme + host (+ path prefix), no trailing slash. */
  base: string;
  timeoutMs: number;
  token?: string;
  userAgent: string;
}

/** The part of the Fetch API's Headers the client uses. */
export interface ResponseHeaders {
  get(name: string): string | null;
}

export interface RawResponse<T> {
  status: number;
  headers: ResponseHeaders;
  body: T;
}

const wrapHeaders = (h: IncomingHttpHeaders): ResponseHeaders => ({
  get(name) {
    const v = h[name.toLowerCase()];
    return v === undefined ? null : Array.isArray(v) ? v.join(", ") : v;
  },
});

interface Answer {
  status: number;
  statusText: string;
  headers: ResponseHeaders;
  text: string;
}

function send(url: string, method: string, headers: Record<string, string>, payload: string | undefined, timeoutMs: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = (u.protocol === "https:" ? httpsRequest : httpRequest)(u, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({
        status: res.statusCode ?? 0,
        statusText: res.statusMessage ?? "",
        headers: wrapHeaders(res.headers),
        text: Buffer.concat(chunks).toString("utf8"),
      }));
      res.on("error", reject);
    });
    req.setTimeout(timeoutMs, () => {
      const err = new Error(`no answer within ${timeoutMs}ms`);
      err.name = "TimeoutError";
      req.destroy(err);
    });
    req.on("error", reject);
    req.end(payload);
  });
}

export type QueryValue = string | number | boolean | undefined | null;

export function buildQuery(params: Record<string, QueryValue> | undefined): string {
  if (!params) return "";
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === "") continue;
    q.append(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

const NET_REASONS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  EPIPE: "connection reset",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ETIMEDOUT: "connection timed out",
  UND_ERR_CONNECT_TIMEOUT: "connection timed out",
  UND_ERR_SOCKET: "connection closed by the server",
  UND_ERR_CLOSED: "connection closed",
  EPROTO: "protocol error (is it https?)",
  ERR_SSL_WRONG_VERSION_NUMBER: "TLS error (http vs https?)",
};

function causeCode(err: unknown, depth = 0): string | undefined {
  if (!err || typeof err !== "object" || depth > 5) return undefined;
  const c = err as { code?: unknown; errors?: unknown[]; cause?: unknown };
  if (typeof c.code === "string" && c.code in NET_REASONS) return c.code;
  // Happy-eyeballs (several addresses for one name) fails with an AggregateError.
  if (Array.isArray(c.errors)) {
    for (const e of c.errors) {
      const inner = causeCode(e, depth + 1);
      if (inner) return inner;
    }
  }
  return causeCode(c.cause, depth + 1) ?? (typeof c.code === "string" ? c.code : undefined);
}

function innermostMessage(err: unknown): string {
  let cur = err as { message?: unknown; cause?: unknown } | null | undefined;
  let msg = String(err);
  for (let depth = 0; cur && typeof cur === "object" && depth < 5; depth++) {
    if (typeof cur.message === "string" && cur.message) msg = cur.message;
    cur = cur.cause as typeof cur;
  }
  return msg;
}

/** Turns a fetch rejection into the "unreachable" DkronError. */
export function networkError(err: unknown, base: string, timeoutMs: number): DkronError {
  const name = (err as { name?: string } | null)?.name;
  let reason: string;
  if (name === "TimeoutError") reason = `no answer within ${timeoutMs}ms`;
  else {
    const code = causeCode(err);
    if (code) reason = NET_REASONS[code] ?? code;
    else {
      reason = innermostMessage(err);
      // fetch refuses the WHATWG "bad ports" (1, 6000, 6665-6669, 10080, …) before connecting.
      if (reason === "bad port") reason = `port ${new URL(base).port} is blocked by fetch (a WHATWG "bad port")`;
    }
  }
  return new DkronError("unreachable", `cannot reach dkron at ${base}: ${reason}`, undefined, { cause: err });
}

const isErrorCode = (v: unknown): v is ErrorCode => typeof v === "string" && Object.hasOwn(ERROR_STATUS, v);

/** Rebuilds the server's typed error from a non-2xx response. */
export function responseError(status: number, statusText: string, text: string): DkronError {
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  const e = (parsed as { error?: { code?: unknown; message?: unknown; field?: unknown } } | undefined)?.error;
  if (e && typeof e === "object") {
    const code = isErrorCode(e.code) && e.code !== "unreachable" ? e.code : statusToCode(status);
    const message = typeof e.message === "string" && e.message ? e.message : `HTTP ${status} ${statusText}`.trim();
    const field = typeof e.field === "string" && e.field ? e.field : undefined;
    return new DkronError(code, message, field);
  }
  // Upstream Dkron (and proxies) answer with plain text.
  const plain = text.trim().split("\n")[0]?.slice(0, 500);
  return new DkronError(statusToCode(status), plain || `HTTP ${status} ${statusText}`.trim());
}

export interface RequestInit2 {
  query?: Record<string, QueryValue>;
  body?: unknown;
  /** Non-2xx statuses that are answers rather than errors (e.g. 404 from /v1/isleader). */
  okStatuses?: number[];
  /** Skip decoding the body (it is then undefined). */
  ignoreBody?: boolean;
}

export async function request<T>(
  opts: TransportOptions,
  method: string,
  path: string,
  init: RequestInit2 = {},
): Promise<RawResponse<T>> {
  const url = `${opts.base}${path}${buildQuery(init.query)}`;
  const headers: Record<string, string> = { accept: "application/json", "user-agent": opts.userAgent };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let payload: string | undefined;
  if (init.body !== undefined) {
    headers["content-type"] = "application/json";
    payload = JSON.stringify(init.body);
  }
  if (payload !== undefined) headers["content-length"] = String(Buffer.byteLength(payload));
  let res: Answer;
  try {
    res = await send(url, method, headers, payload, opts.timeoutMs);
  } catch (err) {
    throw networkError(err, opts.base, opts.timeoutMs);
  }
  const text = res.text;
  const ok = (res.status >= 200 && res.status < 300) || init.okStatuses?.includes(res.status);
  if (!ok) throw responseError(res.status, res.statusText, text);
  if (init.ignoreBody) return { status: res.status, headers: res.headers, body: undefined as T };
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    throw new DkronError("internal", `invalid JSON from ${method} ${path} (HTTP ${res.status})`);
  }
  return { status: res.status, headers: res.headers, body: body as T };
}
