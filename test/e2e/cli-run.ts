// Runs the built CLI as a child process, the way users and scripts do.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** The bin under test; DKRON_E2E_BIN points elsewhere (e.g. a build in a temp dir). */
export const BIN = process.env.DKRON_E2E_BIN ?? `${ROOT}bin/dkron`;
const DIST = new URL("../dist/cli.js", `file://${BIN}`);

export function assertBuilt(): void {
  if (!existsSync(DIST)) throw new Error(`${fileURLToPath(DIST)} is missing: run \`npm run build\` first`);
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A clean environment: no DKRON_* leaking in from the developer's shell, never colour. */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("DKRON_")) env[k] = v;
  env.NO_COLOR = "1";
  return env;
}

export function dkron(args: string[], opts: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { ...baseEnv(), ...opts.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`dkron ${args.join(" ")} did not exit within ${opts.timeoutMs ?? 15_000} ms; stderr: ${stderr}`));
    }, opts.timeoutMs ?? 15_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.input ?? "");
  });
}

/** A port nothing listens on (bound, then released), for "unreachable" cases. */
export async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** The one-line error contract: exactly `dkron: <message>\n`. */
export const ONE_LINE_ERROR = /^dkron: [^\n]+\n$/;
