// A real nats-server for integration tests: random port, fresh temp dir, removed on stop().
// Built on EmbeddedNats, so it is supervised: kill() with SIGKILL makes it come back on the same port.

import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { silentLogger } from "../../src/server/logger.js";
import { EmbeddedNats, findNatsServerBin } from "../../src/server/nats/embedded.js";

export interface TestNatsServer {
  url: string;
  port: number;
  dir: string;
  /** The current nats-server pid (changes when supervision restarts it). */
  readonly pid: number;
  /** The EmbeddedNats underneath, e.g. for onRestart(). */
  embedded: EmbeddedNats;
  stop(): Promise<void>;
  /** Signal the nats-server process (default SIGKILL). */
  kill(signal?: NodeJS.Signals): void;
}

export async function startNatsServer(opts: { jetstream?: boolean; token?: string } = {}): Promise<TestNatsServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "dkron-nats-"));
  const embedded = new EmbeddedNats({
    bin: findNatsServerBin(),
    dir,
    serverName: `test-${path.basename(dir)}`,
    host: "127.0.0.1",
    port: 0,
    logger: silentLogger(),
    maxMemoryStore: "64MB",
    maxFileStore: "256MB",
    jetstream: opts.jetstream ?? true,
    ...(opts.token !== undefined ? { token: opts.token } : {}),
  });
  try {
    await embedded.start();
  } catch (err) {
    await embedded.stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const url = embedded.url;
  let stopped = false;
  return {
    url,
    port: Number(new URL(url).port),
    dir,
    get pid() {
      const pid = embedded.pid;
      if (pid === undefined) throw new Error("nats-server is not running");
      return pid;
    },
    embedded,
    async stop() {
      if (stopped) return;
      stopped = true;
      await embedded.stop();
      await rm(dir, { recursive: true, force: true });
    },
    kill(signal: NodeJS.Signals = "SIGKILL") {
      const pid = embedded.pid;
      if (pid !== undefined) process.kill(pid, signal);
    },
  };
}
