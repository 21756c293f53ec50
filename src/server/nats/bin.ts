// Locating the nats-server binary: the explicit flag, $DKRON_NATS_SERVER_BIN, or a
// PATH search (plus sbin directories often missing from a user's PATH).

import { accessSync, constants as fsConstants, statSync } from "node:fs";
import path from "node:path";
import { DkronError } from "../../shared/errors.js";

export const NATS_INSTALL_HINT =
  "install it (Debian/Ubuntu: sudo apt-get install nats-server; macOS: brew install nats-server) or pass --nats-server-bin PATH";

/**
 * Where is nats-server? The explicit flag, then $DKRON_NATS_SERVER_BIN, then PATH (plus sbin
 * directories that are often not on a user's PATH). Throws DkronError("unavailable") with how to install it.
 */
export function findNatsServerBin(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  const given: Array<[string, string]> = [];
  if (explicit) given.push([explicit, "--nats-server-bin"]);
  else if (env.DKRON_NATS_SERVER_BIN) given.push([env.DKRON_NATS_SERVER_BIN, "DKRON_NATS_SERVER_BIN"]);
  for (const [p, from] of given) {
    if (p.includes("/") || p.includes(path.sep)) {
      if (isExecutableFile(p)) return path.resolve(p);
    } else {
      const found = searchPath(p, env);
      if (found) return found;
    }
    throw new DkronError("unavailable", `nats-server not found at ${p} (from ${from}): ${NATS_INSTALL_HINT}`);
  }
  const found = searchPath("nats-server", env);
  if (found) return found;
  throw new DkronError("unavailable", `nats-server not found: ${NATS_INSTALL_HINT}`);
}

function searchPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  const dirs = (env.PATH ?? "").split(path.delimiter).filter(Boolean);
  for (const extra of ["/usr/sbin", "/usr/local/sbin", "/opt/homebrew/bin", "/usr/local/bin"]) {
    if (!dirs.includes(extra)) dirs.push(extra);
  }
  const names = process.platform === "win32" ? [`${name}.exe`, name] : [name];
  for (const d of dirs) {
    for (const n of names) {
      const p = path.resolve(d, n);
      if (isExecutableFile(p)) return p;
    }
  }
  return undefined;
}

export function isExecutableFile(p: string): boolean {
  try {
    if (!statSync(p).isFile()) return false;
    accessSync(p, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}
