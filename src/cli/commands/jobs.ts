// dkron jobs add|list|show|run|delete|toggle
import { readFile } from "node:fs/promises";
import type { ListJobsQuery } from "../../client/http.js";
import type { Ctx } from "../context.js";
import { UsageError } from "../errors.js";
import { readAll } from "../io.js";
import { buildJob, parseJobFile, type JobAddFlags, type JobBody } from "../job-builder.js";
import { jobDetails, jobsTable } from "../views.js";
import { clientOf, emit } from "./common.js";

async function readJobFile(ctx: Ctx, path: string): Promise<{ body: JobBody; source: string }> {
  if (path === "-") return { body: parseJobFile(await readAll(ctx.io.stdin), "stdin"), source: "stdin" };
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`--file ${path}: ${code === "ENOENT" ? "no such file" : (err as Error).message}`);
  }
  return { body: parseJobFile(text, path), source: path };
}

export async function add(ctx: Ctx, name: string | undefined, flags: JobAddFlags): Promise<void> {
  const file = flags.file !== undefined ? await readJobFile(ctx, flags.file) : undefined;
  const body = buildJob(name, flags, file);
  const job = await clientOf(ctx).upsertJob(body, { runOnCreate: flags.run === true });
  emit(ctx, job, () => jobDetails(job, ctx.io.now(), ctx.style) + (flags.run ? ctx.style.dim("run triggered\n") : ""));
}

export interface JobListFlags {
  query?: string;
  status?: string;
  disabled?: boolean;
  enabled?: boolean;
  sort?: string;
  limit?: number;
  metadata?: Record<string, string>;
}

/** Pure: flags → API query. `--sort -next` sorts descending. */
export function listQuery(flags: JobListFlags): ListJobsQuery {
  if (flags.disabled && flags.enabled) throw new UsageError("--disabled and --enabled are mutually exclusive");
  const q: ListJobsQuery = {};
  if (flags.query) q.q = flags.query;
  if (flags.status) q.status = flags.status;
  if (flags.disabled) q.disabled = true;
  if (flags.enabled) q.disabled = false;
  if (flags.sort) {
    const desc = flags.sort.startsWith("-");
    q.sort = desc ? flags.sort.slice(1) : flags.sort;
    q.order = desc ? "DESC" : "ASC";
  }
  if (flags.limit !== undefined) {
    q.start = 0;
    q.end = flags.limit;
  }
  if (flags.metadata && Object.keys(flags.metadata).length) q.metadata = flags.metadata;
  return q;
}

export async function list(ctx: Ctx, flags: JobListFlags): Promise<void> {
  const { items, total } = await clientOf(ctx).listJobs(listQuery(flags));
  emit(ctx, items, () => {
    if (items.length === 0) return total > 0 ? `no jobs in this range (${total} match)\n` : "no jobs\n";
    let text = jobsTable(items, ctx.io.now(), ctx.style);
    if (total > items.length) text += ctx.style.dim(`showing ${items.length} of ${total} jobs\n`);
    return text;
  });
}

export async function show(ctx: Ctx, name: string): Promise<void> {
  const job = await clientOf(ctx).getJob(name);
  emit(ctx, job, () => jobDetails(job, ctx.io.now(), ctx.style));
}

export async function run(ctx: Ctx, name: string): Promise<void> {
  const job = await clientOf(ctx).runJob(name);
  emit(ctx, job, () => `job ${job.name} triggered; see \`dkron executions ${job.name}\`\n`);
}

async function confirm(ctx: Ctx, question: string): Promise<boolean> {
  const { createInterface } = await import("node:readline/promises");
  const rl = createInterface({ input: ctx.io.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

export async function remove(ctx: Ctx, name: string, flags: { yes?: boolean }): Promise<void> {
  // Ask only when a person is there to answer; scripts (no TTY) and --json never block.
  const interactive = ctx.io.stdin.isTTY === true && ctx.io.stdout.isTTY === true && !ctx.json;
  if (interactive && !flags.yes && !(await confirm(ctx, `delete job ${name}?`))) {
    throw new Error(`aborted; job ${name} not deleted`);
  }
  const job = await clientOf(ctx).deleteJob(name);
  emit(ctx, job, () => `deleted job ${job.name}\n`);
}

export async function toggle(ctx: Ctx, name: string): Promise<void> {
  const job = await clientOf(ctx).toggleJob(name);
  emit(ctx, job, () => `job ${job.name} is now ${job.disabled ? "disabled" : "enabled"}\n`);
}
