// Builds the job JSON for `dkron jobs add` from flags and an optional --file.
// Pure: the file's text is read by the caller. Flags given alongside the file
// override its fields; map flags (--tag, --metadata, --config) merge key by key.
import { UsageError } from "./errors.js";

export interface JobAddFlags {
  schedule?: string;
  command?: string;
  shell?: boolean;
  executor?: string;
  config?: Record<string, string>;
  tag?: Record<string, string>;
  metadata?: Record<string, string>;
  timezone?: string;
  disabled?: boolean;
  retries?: number;
  concurrency?: string;
  parent?: string;
  displayname?: string;
  owner?: string;
  ownerEmail?: string;
  catchup?: string;
  catchupWindow?: string;
  ephemeral?: boolean;
  startsAt?: string;
  expiresAt?: string;
  run?: boolean;
  file?: string;
}

export type JobBody = Record<string, unknown>;

/** Parses the --file text; `source` names it in errors ("job.json", "stdin"). */
export function parseJobFile(text: string, source: string): JobBody {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--file ${source}: not valid JSON: ${(err as Error).message}`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new UsageError(`--file ${source}: expected one job as a JSON object`);
  }
  return parsed as JobBody;
}

function mapField(base: JobBody, key: string, source: string): Record<string, unknown> {
  const v = base[key];
  if (v === undefined || v === null) return {};
  if (typeof v !== "object" || Array.isArray(v)) throw new UsageError(`--file ${source}: ${key} must be an object`);
  return v as Record<string, unknown>;
}

const SCALARS: ReadonlyArray<readonly [keyof JobAddFlags, string]> = [
  ["schedule", "schedule"],
  ["timezone", "timezone"],
  ["disabled", "disabled"],
  ["retries", "retries"],
  ["concurrency", "concurrency"],
  ["parent", "parent_job"],
  ["displayname", "displayname"],
  ["owner", "owner"],
  ["ownerEmail", "owner_email"],
  ["catchup", "catchup"],
  ["catchupWindow", "catchup_window"],
  ["ephemeral", "ephemeral"],
  ["startsAt", "starts_at"],
  ["expiresAt", "expires_at"],
  ["executor", "executor"],
];

export function buildJob(name: string | undefined, flags: JobAddFlags, file?: { body: JobBody; source: string }): JobBody {
  const base: JobBody = file ? { ...file.body } : {};
  const source = file?.source ?? "";
  const job: JobBody = { ...base };

  if (name !== undefined) job.name = name;
  if (typeof job.name !== "string" || job.name === "") {
    throw new UsageError(file ? `--file ${source}: no job name; give NAME or a "name" field` : "missing job NAME");
  }
  // Dkron's id mirrors name; a stale id from a copied file must not disagree.
  if ("id" in job) job.id = job.name;

  for (const [flag, field] of SCALARS) {
    const v = flags[flag];
    if (v !== undefined) job[field] = v;
  }

  if (flags.tag) job.tags = { ...mapField(base, "tags", source), ...flags.tag };
  if (flags.metadata) job.metadata = { ...mapField(base, "metadata", source), ...flags.metadata };

  const config: Record<string, unknown> = { ...mapField(base, "executor_config", source), ...(flags.config ?? {}) };
  if (flags.command !== undefined) config.command = flags.command;
  if (flags.shell) config.shell = "true";
  if (flags.config || flags.command !== undefined || flags.shell) job.executor_config = config;

  if (job.executor === undefined || job.executor === "") job.executor = "shell";
  return job;
}
