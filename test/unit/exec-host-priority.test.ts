// The exec host may run at a raised priority (for precise start instants);
// the commands it starts must run at the agent's own priority, and a missing
// program must still be reported as a failure to start.
import os from "node:os";
import { afterAll, describe, expect, it } from "vitest";
import { ExecHost } from "../../src/server/executors/exec-host/client.js";
import { shellExecutorOn } from "../../src/server/executors/shell.js";
import { parseJobInput } from "../../src/shared/job.js";

const host = new ExecHost();
afterAll(() => host.close());

async function run(command: string) {
  let out = "";
  const job = parseJobInput({ name: "prio", schedule: "@manually", executor_config: { command } });
  const res = await shellExecutorOn(host).run({
    job, executionId: "e", signal: new AbortController().signal, onOutput: (b) => (out += b.toString()),
  });
  return { ...res, out };
}

describe("exec host priority", () => {
  it("runs commands at the agent's priority, not the host's", async () => {
    const r = await run("nice");
    expect(r.success).toBe(true);
    expect(r.out.trim()).toBe(String(os.getPriority()));
  });

  it("still reports a missing program as a failure to start", async () => {
    const r = await run("/nonexistent/dkron-program");
    expect(r.success).toBe(false);
    expect(r.reason).toMatch(/cannot start/);
  });
});
