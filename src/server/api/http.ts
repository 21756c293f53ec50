// A small HTTP layer over node:http: routing, JSON bodies with a size limit,
// Dkron's headers (X-Whom, CORS, ?pretty) and the one place where error codes
// become status codes. No framework: start-up and per-request cost stay tiny.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { DkronError, isDkronError } from "../../shared/errors.js";
import type { Logger } from "../logger.js";

export interface Request {
  method: string;
  path: string;
  query: URLSearchParams;
  params: Record<string, string>;
  headers: IncomingMessage["headers"];
  /** Parsed JSON body (undefined when empty). */
  body(): Promise<unknown>;
  raw: IncomingMessage;
}

export interface Reply {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Handler = (req: Request) => Promise<Reply> | Reply;

interface Route {
  method: string;
  pattern: RegExp;
  keys: string[];
  handler: Handler;
}

export const MAX_BODY_BYTES = 1024 * 1024;

export class Router {
  private readonly routes: Route[] = [];

  add(method: string, path: string, handler: Handler): this {
    const keys: string[] = [];
    const pattern = new RegExp(
      `^${path.replace(/\/:([a-z_]+)/gi, (_, k: string) => (keys.push(k), "/([^/]+)"))}/?$`,
    );
    this.routes.push({ method, pattern, keys, handler });
    return this;
  }

  match(method: string, path: string): { handler: Handler; params: Record<string, string> } | "method" | undefined {
    let pathMatched = false;
    for (const r of this.routes) {
      const m = r.pattern.exec(path);
      if (!m) continue;
      pathMatched = true;
      if (r.method !== method && !(method === "HEAD" && r.method === "GET")) continue;
      const params: Record<string, string> = {};
      r.keys.forEach((k, i) => {
        try {
          params[k] = decodeURIComponent(m[i + 1]!);
        } catch {
          params[k] = m[i + 1]!;
        }
      });
      return { handler: r.handler, params };
    }
    return pathMatched ? "method" : undefined;
  }
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > limit) {
      req.resume();
      reject(new DkronError("payload_too_large", `body: larger than ${limit} bytes`, "body"));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners("data");
        req.resume();
        reject(new DkronError("payload_too_large", `body: larger than ${limit} bytes`, "body"));
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export async function parseJsonBody(raw: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  const buf = await readBody(raw, limit);
  if (buf.length === 0) return undefined;
  try {
    return JSON.parse(buf.toString("utf8"));
  } catch (err) {
    throw new DkronError("invalid_argument", `body: malformed JSON: ${(err as Error).message}`, "body");
  }
}

export interface HttpOptions {
  nodeName: string;
  log: Logger;
  /** Checked before write routes; throws to refuse. */
  authorize?(req: Request): void;
}

export function createHttpServer(router: Router, opts: HttpOptions): Server {
  return createServer((raw, res) => void handle(router, opts, raw, res));
}

async function handle(router: Router, opts: HttpOptions, raw: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(raw.url ?? "/", "http://localhost");
  const method = raw.method ?? "GET";
  const pretty = url.searchParams.has("pretty");
  const headers: Record<string, string> = {};
  if (url.pathname !== "/health") {
    headers["X-Whom"] = opts.nodeName;
    headers["Access-Control-Allow-Origin"] = "*";
    headers["Access-Control-Expose-Headers"] = "*";
  }
  let reply: Reply;
  try {
    if (method === "OPTIONS") {
      reply = { status: 204, headers: { "Access-Control-Allow-Methods": "GET,POST,PUT,PATCH,DELETE,OPTIONS", "Access-Control-Allow-Headers": "*" } };
    } else {
      const m = router.match(method, url.pathname);
      if (m === undefined) throw new DkronError("not_found", `no route ${method} ${url.pathname}`);
      if (m === "method") {
        reply = { status: 405, body: { error: { code: "method_not_allowed", message: `${method} is not allowed on ${url.pathname}` } } };
      } else {
        let bodyPromise: Promise<unknown> | undefined;
        const req: Request = {
          method,
          path: url.pathname,
          query: url.searchParams,
          params: m.params,
          headers: raw.headers,
          raw,
          body: () => (bodyPromise ??= parseJsonBody(raw)),
        };
        if (method !== "GET" && method !== "HEAD") opts.authorize?.(req);
        reply = await m.handler(req);
      }
    }
  } catch (err) {
    if (isDkronError(err) && err.code !== "internal") {
      reply = { status: err.status, body: err.toJSON() };
    } else {
      opts.log.error({ err, method, path: url.pathname }, "request failed");
      const message = isDkronError(err) ? err.message : "internal error";
      reply = { status: 500, body: { error: { code: "internal", message } } };
    }
  }
  const status = reply.status ?? 200;
  Object.assign(headers, reply.headers);
  if (reply.body === undefined || status === 204) {
    res.writeHead(status, headers).end();
    return;
  }
  const text = typeof reply.body === "string" && headers["Content-Type"] ? reply.body : JSON.stringify(reply.body, null, pretty ? 2 : undefined);
  headers["Content-Type"] ??= "application/json; charset=utf-8";
  res.writeHead(status, headers).end(method === "HEAD" ? undefined : text);
}
