// `dkron agent`: resolve the configuration, start the node, and own its
// lifecycle (signals, graceful shutdown). The server code is loaded only here.
import { resolveConfig } from "../server/config.js";
import { createLogger } from "../server/logger.js";
import { Agent } from "../server/agent.js";
import type { AgentCliOptions } from "./agent-options.js";

export async function runAgent(opts: AgentCliOptions): Promise<void> {
  const cfg = resolveConfig(opts);
  const log = createLogger({ level: cfg.logLevel, name: cfg.nodeName, file: cfg.logFile });
  const agent = new Agent(cfg, log);
  let stopping: Promise<void> | undefined;
  let firstSignalAt = 0;
  const shutdown = (signal: string) => {
    if (stopping) {
      // `timeout` and process-group kills deliver the same signal twice at once:
      // only a deliberate second signal (a second Ctrl-C) forces the exit.
      if (Date.now() - firstSignalAt < 1_000) return;
      log.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    firstSignalAt = Date.now();
    log.info({ signal }, "signal received");
    stopping = agent.stop().then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  agent.onLeave = () => shutdown("leave");
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  try {
    await agent.start();
  } catch (err) {
    await agent.stop().catch(() => undefined);
    throw err;
  }
  if (process.stderr.isTTY) {
    process.stderr.write(`dkron agent ${cfg.nodeName} ready: API ${agent.httpAddress || "(worker, no API)"}\n`);
  }
}
