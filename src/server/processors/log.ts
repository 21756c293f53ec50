// Dkron's `log` processor: the output goes to the agent's log; the stored output becomes
// "Output in dkron log" unless `forward` is "true".
import { storedAs, type Processor } from "./types.js";

export const logProcessor: Processor = {
  process(ctx) {
    const { job, execution } = ctx;
    ctx.log.info(
      { job: job.name, execution: execution.id, node: execution.node_name, success: execution.success, output: execution.output },
      "execution output",
    );
    return Promise.resolve(storedAs(ctx, "Output in dkron log"));
  },
};
