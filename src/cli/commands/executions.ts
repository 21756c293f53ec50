// dkron executions [JOB] | dkron executions show JOB ID
import type { Ctx } from "../context.js";
import { executionDetails, executionsTable } from "../views.js";
import { clientOf, emit } from "./common.js";

export interface ExecutionListFlags {
  limit: number;
  output?: boolean;
  status?: string;
}

/** Bytes of output to fetch per execution for the table (the column shows a one-line tail). */
const TABLE_OUTPUT_BYTES = 200;

export async function list(ctx: Ctx, job: string | undefined, flags: ExecutionListFlags): Promise<void> {
  const client = clientOf(ctx);
  // --json keeps whole Dkron objects; the table needs no output unless --output.
  const outputSizeLimit = ctx.json ? undefined : flags.output ? TABLE_OUTPUT_BYTES : 1;
  const paging = { start: 0, end: flags.limit, ...(outputSizeLimit ? { outputSizeLimit } : {}) };
  // The per-job route is Dkron's (and 404s on an unknown job); only ours filters by status.
  const page =
    job && !flags.status
      ? await client.listExecutions(job, paging)
      : await client.listAllExecutions({ ...paging, ...(job ? { job } : {}), ...(flags.status ? { status: flags.status } : {}) });
  // Upstream Dkron ignores _start/_end on per-job listings: cut here too.
  const items = page.items.slice(0, flags.limit);
  emit(ctx, items, () => {
    if (items.length === 0) return job ? `no executions of ${job}\n` : "no executions\n";
    let text = executionsTable(items, ctx.io.now(), ctx.style, flags.output === true);
    if (page.total > items.length) text += ctx.style.dim(`showing ${items.length} of ${page.total} executions\n`);
    return text;
  });
}

export async function kill(ctx: Ctx, id: string): Promise<void> {
  const exec = await clientOf(ctx).killExecution(id);
  emit(ctx, exec, () => `killing ${exec.id} (${exec.job_name} on ${exec.node_name})\n`);
}

export async function show(ctx: Ctx, job: string, id: string): Promise<void> {
  const exec = await clientOf(ctx).getExecution(job, id);
  emit(ctx, exec, () => executionDetails(exec, ctx.io.now(), ctx.style));
}
