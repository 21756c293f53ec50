// Entry point, bundled to dist/cli.js and imported by ./bin/dkron.
import { processIo } from "./io.js";
import { lazyActions, runCli, type Actions } from "./program.js";

// `dkron jobs list --json | head -1`: a closed pipe is the reader's choice, not an error.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(0);
  throw err;
});

let agentRunning = false;
const actions: Actions = {
  ...lazyActions,
  agent: async (opts) => {
    agentRunning = true;
    await lazyActions.agent(opts);
  },
};

const code = await runCli(process.argv.slice(2), processIo(), actions);
if (agentRunning && code === 0) {
  // The agent owns its lifecycle (signals, shutdown); let the loop drain.
  process.exitCode = code;
} else {
  // Client commands are done: fetch's pooled socket would keep the process
  // alive for another ~100 ms. Exit once stdout has flushed.
  process.stdout.write("", () => process.exit(code));
}
