// The http executor, with Dkron's executor_config keys (plugin/http/http.go):
// method, url, headers, body, timeout, expectCode, expectBody, debug, and the
// TLS keys tlsNoVerifyPeer, tlsCertificateFile, tlsCertificateKeyFile, tlsRootCAsFile.
// As in Dkron, without expectCode any response counts as a success: only a
// transport error, a timeout, a kill, or a failed expectBody match fail the run.
import { X509Certificate, createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { Agent, interceptors, request } from "undici";
import { invalid } from "../../shared/errors.js";
import type { ExecutionContext, ExecutionResult, Executor } from "./types.js";

const DEFAULT_TIMEOUT_S = 30;
/** How much of the body is kept to match expectBody against (the output itself streams). */
const BODY_MATCH_LIMIT = 16 * 1024 * 1024;
/** RFC 9110 token: what a method or a header name may be made of. */
const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

// The wall clock the scheduler's start instants are in. (timeOrigin + performance.now() drifts
// away from it in a long-running agent.)
export const now = (): number => Date.now();

/** Go's strconv.ParseBool: the spellings Dkron accepts for boolean config values. */
export function parseGoBool(s: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(s)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(s)) return false;
  return undefined;
}

/**
 * Splits a "K: V" header line at the first ':' (Dkron splits at every ':' and keeps only the
 * second piece, cutting values such as URLs; we keep the value whole). Null when malformed.
 */
export function splitHeader(line: string): [string, string] | null {
  const i = line.indexOf(":");
  if (i <= 0) return null;
  const name = line.slice(0, i).trim();
  if (!TOKEN_RE.test(name)) return null;
  return [name, line.slice(i + 1).trim()];
}

function parseHeaders(json: string | undefined): [string, string][] {
  if (!json) return [];
  let lines: unknown;
  try {
    lines = JSON.parse(json);
  } catch {
    throw invalid("executor_config.headers", 'must be a JSON array of "Name: value" strings');
  }
  if (!Array.isArray(lines) || lines.some((l) => typeof l !== "string")) {
    throw invalid("executor_config.headers", 'must be a JSON array of "Name: value" strings');
  }
  const out: [string, string][] = [];
  for (const line of lines as string[]) {
    if (!line.trim()) continue;
    const kv = splitHeader(line);
    if (!kv) throw invalid("executor_config.headers", `not a "Name: value" header: ${JSON.stringify(line)}`);
    out.push(kv);
  }
  return out;
}

function parseTimeoutMs(s: string | undefined): number {
  if (!s) return DEFAULT_TIMEOUT_S * 1000;
  const n = Number(s);
  if (!/^\s*\d*\.?\d+\s*$/.test(s) || !(n > 0)) {
    throw invalid("executor_config.timeout", `not a positive number of seconds: ${JSON.stringify(s)}`);
  }
  return n * 1000;
}

function parseExpectCodes(s: string | undefined): number[] | null {
  if (!s) return null;
  const codes = s.split(",").map((c) => c.trim()).filter(Boolean);
  for (const c of codes) {
    if (!/^[1-5]\d\d$/.test(c)) throw invalid("executor_config.expectCode", `not an HTTP status code: ${JSON.stringify(c)}`);
  }
  return codes.length ? codes.map(Number) : null;
}

function parseRegex(s: string | undefined): RegExp | null {
  if (!s) return null;
  try {
    return new RegExp(s);
  } catch (err) {
    throw invalid("executor_config.expectBody", `not a regular expression: ${(err as Error).message}`);
  }
}

function parseUrl(s: string | undefined): URL {
  let url: URL;
  try {
    url = new URL(s ?? "");
  } catch {
    throw invalid("executor_config.url", `not a URL: ${JSON.stringify(s ?? "")}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw invalid("executor_config.url", `must be http:// or https://, got ${JSON.stringify(url.protocol)}`);
  }
  return url;
}

function parseMethod(s: string | undefined): string {
  if (!s || !TOKEN_RE.test(s)) throw invalid("executor_config.method", `not an HTTP method: ${JSON.stringify(s ?? "")}`);
  return s.toUpperCase();
}

const TLS_KEYS = ["tlsRootCAsFile", "tlsCertificateFile", "tlsCertificateKeyFile"] as const;
type TlsKey = (typeof TLS_KEYS)[number];
type TlsFiles = Partial<Record<TlsKey, Buffer>>;

/**
 * Synchronous: validate() must be, and the files are a few KB. Note that the API node reads them
 * too, so they must exist there as well as on the nodes that run the job.
 */
function readTls(cfg: Record<string, string>): TlsFiles {
  const files: TlsFiles = {};
  for (const key of TLS_KEYS) {
    const path = cfg[key];
    if (!path) continue;
    try {
      files[key] = readFileSync(path);
    } catch (err) {
      throw invalid(`executor_config.${key}`, `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  return files;
}

/** Checks that each TLS file holds what its key says; each problem is reported against its own key. */
function checkTls(cfg: Record<string, string>, files: TlsFiles): void {
  const check = (key: TlsKey, fn: (b: Buffer) => void) => {
    const data = files[key];
    if (!data) return;
    try {
      fn(data);
    } catch (err) {
      throw invalid(`executor_config.${key}`, `${cfg[key]}: ${(err as Error).message}`);
    }
  };
  const cert = (b: Buffer) => {
    if (!b.includes("-----BEGIN CERTIFICATE-----")) throw new Error("no PEM certificate in file");
    new X509Certificate(b);
  };
  check("tlsRootCAsFile", cert);
  check("tlsCertificateFile", cert);
  check("tlsCertificateKeyFile", (b) => void createPrivateKey(b));
}

interface Plan {
  method: string;
  url: URL;
  headers: [string, string][];
  timeoutMs: number;
  expectCodes: number[] | null;
  expectBody: RegExp | null;
  noVerify: boolean;
}

/** Everything but the TLS files: pure, shared by validate() and run(). */
function plan(cfg: Record<string, string>): Plan {
  const noVerify = cfg.tlsNoVerifyPeer ? parseGoBool(cfg.tlsNoVerifyPeer) : false;
  if (noVerify === undefined) throw invalid("executor_config.tlsNoVerifyPeer", `not a boolean: ${JSON.stringify(cfg.tlsNoVerifyPeer)}`);
  if (cfg.tlsCertificateFile && !cfg.tlsCertificateKeyFile) throw invalid("executor_config.tlsCertificateKeyFile", "is required with tlsCertificateFile");
  if (cfg.tlsCertificateKeyFile && !cfg.tlsCertificateFile) throw invalid("executor_config.tlsCertificateFile", "is required with tlsCertificateKeyFile");
  return {
    method: parseMethod(cfg.method),
    url: parseUrl(cfg.url),
    headers: parseHeaders(cfg.headers),
    timeoutMs: parseTimeoutMs(cfg.timeout),
    expectCodes: parseExpectCodes(cfg.expectCode),
    expectBody: parseRegex(cfg.expectBody),
    noVerify,
  };
}

function validate(cfg: Record<string, string>): void {
  plan(cfg);
  checkTls(cfg, readTls(cfg));
}

/**
 * Resolves true at `at` (epoch ms; at once when absent or past), false if the signal aborts first.
 * Sleeps until just before, then yields turn by turn, as the exec host does for commands.
 */
export function waitForStart(at: number | undefined, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    let timer: NodeJS.Timeout | undefined;
    let immediate: NodeJS.Immediate | undefined;
    const onAbort = () => {
      clearTimeout(timer);
      if (immediate) clearImmediate(immediate);
      resolve(false);
    };
    const tick = () => {
      const wait = (at ?? 0) - now();
      if (wait <= 0) {
        signal.removeEventListener("abort", onAbort);
        resolve(true);
      } else if (wait > 2) timer = setTimeout(tick, wait - 1.5);
      else immediate = setImmediate(tick);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    tick();
  });
}

export const abortReason = (signal: AbortSignal): string =>
  typeof signal.reason === "string" ? signal.reason : signal.reason instanceof Error && signal.reason.name !== "AbortError" ? signal.reason.message : "killed";

const failed = (reason: string): ExecutionResult => ({ success: false, exitCode: null, reason });

async function run(ctx: ExecutionContext): Promise<ExecutionResult> {
  const cfg = ctx.job.executor_config;
  let p: Plan;
  let tls: TlsFiles;
  try {
    p = plan(cfg);
    tls = readTls(cfg);
    checkTls(cfg, tls);
  } catch (err) {
    return failed((err as Error).message);
  }
  if (!(await waitForStart(ctx.startAt, ctx.signal))) return failed(abortReason(ctx.signal));
  ctx.onStarted?.(now());

  const agent = new Agent({
    connect: {
      rejectUnauthorized: !p.noVerify,
      ...(tls.tlsRootCAsFile ? { ca: tls.tlsRootCAsFile } : {}),
      ...(tls.tlsCertificateFile ? { cert: tls.tlsCertificateFile, key: tls.tlsCertificateKeyFile } : {}),
    },
    // The overall timeout below governs; these would only cut it short.
    headersTimeout: 0,
    bodyTimeout: 0,
  });
  // Go's http.Client follows up to 10 redirects; so do we.
  const dispatcher = agent.compose(interceptors.redirect({ maxRedirections: 10 }));
  const timeout = AbortSignal.timeout(p.timeoutMs);
  const signal = AbortSignal.any([ctx.signal, timeout]);
  const debug = !!cfg.debug;
  const out = (s: string) => ctx.onOutput(Buffer.from(s));
  try {
    if (debug) {
      out(`> ${p.method} ${p.url.href}\n`);
      for (const [k, v] of p.headers) out(`> ${k}: ${v}\n`);
      out(`>${cfg.body ? ` (${Buffer.byteLength(cfg.body)} bytes of body)` : ""}\n`);
    }
    const res = await request(p.url, {
      method: p.method,
      headers: p.headers.flat(),
      ...(cfg.body ? { body: cfg.body } : {}),
      dispatcher,
      signal,
    });
    if (debug) {
      out(`< ${res.statusCode}\n`);
      for (const [k, v] of Object.entries(res.headers)) for (const one of [v ?? ""].flat()) out(`< ${k}: ${one}\n`);
      out("<\n");
    }
    const kept: Buffer[] = [];
    let keptBytes = 0;
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      ctx.onOutput(chunk);
      if (p.expectBody && keptBytes < BODY_MATCH_LIMIT) {
        kept.push(chunk);
        keptBytes += chunk.length;
      }
    }
    if (p.expectCodes && !p.expectCodes.includes(res.statusCode)) {
      return failed(`received response code ${res.statusCode} does not match the expected code (${p.expectCodes.join(",")})`);
    }
    if (p.expectBody && !p.expectBody.test(Buffer.concat(kept).toString("utf8"))) {
      return failed(`received response body did not match the expected body /${p.expectBody.source}/`);
    }
    return { success: true, exitCode: null };
  } catch (err) {
    if (ctx.signal.aborted) return failed(abortReason(ctx.signal));
    if (timeout.aborted) return failed(`timeout after ${p.timeoutMs / 1000}s`);
    const e = err as Error & { code?: string; cause?: { code?: string; message?: string } };
    const detail = e.cause?.message ?? e.message;
    const code = e.cause?.code ?? e.code;
    return failed(`${p.method} ${p.url.href} failed: ${detail}${code && !detail.includes(code) ? ` (${code})` : ""}`);
  } finally {
    await agent.destroy().catch(() => undefined);
  }
}

export const httpExecutor: Executor = { required: ["method", "url"], validate, run };
