// Dkron's Job JSON: the schema of what users send, what is stored, and what
// the API returns. Field names match Dkron's exactly (see dkron/job.go).
import { z } from "zod";
import { DkronError } from "./errors.js";
import { parseTime, toRfc3339, toRfc3339OrZero } from "./time.js";

export const JOB_NAME_RE = /^[\p{Ll}\p{Lo}\p{Nd}_-]+$/u;
export const JOB_NAME_MAX = 200;

const stringMap = z.record(
  z.string(),
  // Dkron stores every config value as a string; accept the scalars users
  // naturally type in JSON and store them as strings.
  z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v)),
);

const nullableTime = z
  .union([z.string(), z.null()])
  .optional()
  .transform((v, ctx) => {
    const ms = parseTime(v ?? null);
    if (ms !== null && Number.isNaN(ms)) {
      ctx.addIssue({ code: "custom", message: `not an RFC3339 time: ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return ms;
  });

export const CONCURRENCY = ["allow", "forbid", "replace"] as const;

/** Delay before retry k (1-based) = min(max, initial × multiplier^(k-1)); Go durations. */
export interface RetryBackoff {
  initial: string;
  max: string;
  multiplier: number;
}

/** Close to Dkron's: about half a second, growing with each attempt. */
export const DEFAULT_RETRY_BACKOFF: RetryBackoff = { initial: "500ms", max: "1m", multiplier: 2 };
export const CATCHUP = ["none", "last", "all"] as const;

/** What a client may send. Server-maintained fields are accepted and ignored. */
export const JobInputSchema = z.object({
  name: z
    .string({ error: (iss) => (iss.input === undefined ? "is required" : "must be a string") })
    .min(1, "is required")
    .max(JOB_NAME_MAX, `must be at most ${JOB_NAME_MAX} characters`)
    .regex(JOB_NAME_RE, "may contain only lowercase letters, digits, '_' and '-'"),
  id: z.string().optional(),
  displayname: z.string().optional().default(""),
  timezone: z.string().optional().default(""),
  schedule: z.string().optional().default(""),
  owner: z.string().optional().default(""),
  owner_email: z.string().optional().default(""),
  disabled: z.boolean().optional().default(false),
  tags: stringMap.nullish().transform((v) => v ?? {}),
  metadata: stringMap.nullish().transform((v) => v ?? {}),
  retries: z.number().int().min(0).max(100).optional().default(0),
  parent_job: z.string().optional().default(""),
  processors: z.record(z.string(), stringMap).nullish().transform((v) => v ?? {}),
  concurrency: z.enum(CONCURRENCY).or(z.literal("").transform(() => "allow" as const)).optional().default("allow"),
  executor: z.string().optional().default("shell"),
  executor_config: stringMap.nullish().transform((v) => v ?? {}),
  ephemeral: z.boolean().optional().default(false),
  starts_at: nullableTime,
  expires_at: nullableTime,
  catchup: z.enum(CATCHUP).optional().default("last"),
  catchup_window: z.string().optional().default("1h"),
  retry_backoff: z
    .object({
      initial: z.string().optional().default(DEFAULT_RETRY_BACKOFF.initial),
      max: z.string().optional().default(DEFAULT_RETRY_BACKOFF.max),
      multiplier: z.number().min(1).max(10).optional().default(DEFAULT_RETRY_BACKOFF.multiplier),
    })
    .nullish()
    .transform((v) => v ?? { ...DEFAULT_RETRY_BACKOFF }),
  // Server-maintained; ignored on input.
  dependent_jobs: z.unknown().optional(),
  success_count: z.unknown().optional(),
  error_count: z.unknown().optional(),
  last_success: z.unknown().optional(),
  last_error: z.unknown().optional(),
  status: z.unknown().optional(),
  next: z.unknown().optional(),
});

/** The stored definition (KV `dkron-jobs`). Times are epoch ms. */
export interface JobSpec {
  name: string;
  displayname: string;
  timezone: string;
  schedule: string;
  owner: string;
  owner_email: string;
  disabled: boolean;
  tags: Record<string, string>;
  metadata: Record<string, string>;
  retries: number;
  parent_job: string;
  dependent_jobs: string[];
  processors: Record<string, Record<string, string>>;
  concurrency: (typeof CONCURRENCY)[number];
  executor: string;
  executor_config: Record<string, string>;
  ephemeral: boolean;
  starts_at: number | null;
  expires_at: number | null;
  catchup: (typeof CATCHUP)[number];
  catchup_window: string;
  retry_backoff: RetryBackoff;
  /** Set when the job is created, kept across updates: tells a job from an
   * earlier, deleted job of the same name (whose executions may still finish). */
  incarnation: string;
}

/** Leader-maintained status (KV `dkron-job-status`). */
export interface JobStatus {
  success_count: number;
  error_count: number;
  last_success: number | null;
  last_error: number | null;
  /** "" (untriggered) | success | failed | partially_failed */
  status: string;
  /** Group (trigger ns) the status is computed over, and its tallies. */
  group: number;
  group_success: number;
  group_failed: number;
  /** Highest executions-stream sequence applied: makes re-delivery harmless. */
  seq: number;
}

export const emptyStatus = (): JobStatus => ({
  success_count: 0,
  error_count: 0,
  last_success: null,
  last_error: null,
  status: "",
  group: 0,
  group_success: 0,
  group_failed: 0,
  seq: 0,
});

/** The API's Job JSON (Dkron's shape). */
export interface Job {
  id: string;
  name: string;
  displayname: string;
  timezone: string;
  schedule: string;
  owner: string;
  owner_email: string;
  success_count: number;
  error_count: number;
  last_success: string | null;
  last_error: string | null;
  disabled: boolean;
  tags: Record<string, string>;
  metadata: Record<string, string>;
  retries: number;
  dependent_jobs: string[] | null;
  parent_job: string;
  processors: Record<string, Record<string, string>>;
  concurrency: string;
  executor: string;
  executor_config: Record<string, string>;
  status: string;
  next: string;
  ephemeral: boolean;
  starts_at: string | null;
  expires_at: string | null;
  catchup: string;
  catchup_window: string;
  retry_backoff: RetryBackoff;
}

/** Turns the first zod issue into a DkronError naming the field. */
export function zodToDkronError(err: z.ZodError, prefix = ""): DkronError {
  const issue = err.issues[0];
  const path = issue?.path.map(String).join(".") ?? "";
  const field = prefix && path ? `${prefix}.${path}` : prefix || path || "body";
  let message = issue?.message ?? "invalid";
  if (issue?.code === "invalid_type" && /received undefined/.test(message)) message = "is required";
  return new DkronError("invalid_argument", `${field}: ${message}`, field);
}

/** Validates the shape of a job payload (semantic checks such as schedule parsing live in the server). */
export function parseJobInput(body: unknown): JobSpec {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new DkronError("invalid_argument", "body: must be a JSON object with the job", "body");
  }
  const r = JobInputSchema.safeParse(body);
  if (!r.success) throw zodToDkronError(r.error);
  const v = r.data;
  return {
    name: v.name,
    displayname: v.displayname,
    timezone: v.timezone,
    schedule: v.schedule.trim(),
    owner: v.owner,
    owner_email: v.owner_email,
    disabled: v.disabled,
    tags: v.tags,
    metadata: v.metadata,
    retries: v.retries,
    parent_job: v.parent_job,
    dependent_jobs: [],
    processors: v.processors,
    concurrency: v.concurrency,
    executor: v.executor || "shell",
    executor_config: v.executor_config,
    ephemeral: v.ephemeral,
    starts_at: v.starts_at ?? null,
    expires_at: v.expires_at ?? null,
    catchup: v.catchup,
    catchup_window: v.catchup_window,
    retry_backoff: v.retry_backoff,
    incarnation: "",
  };
}

export function toJobJson(spec: JobSpec, status: JobStatus | undefined, next: number | null): Job {
  const s = status ?? emptyStatus();
  return {
    id: spec.name,
    name: spec.name,
    displayname: spec.displayname,
    timezone: spec.timezone,
    schedule: spec.schedule,
    owner: spec.owner,
    owner_email: spec.owner_email,
    success_count: s.success_count,
    error_count: s.error_count,
    last_success: toRfc3339(s.last_success),
    last_error: toRfc3339(s.last_error),
    disabled: spec.disabled,
    tags: spec.tags,
    metadata: spec.metadata,
    retries: spec.retries,
    dependent_jobs: spec.dependent_jobs.length ? spec.dependent_jobs : null,
    parent_job: spec.parent_job,
    processors: spec.processors,
    concurrency: spec.concurrency,
    executor: spec.executor,
    executor_config: spec.executor_config,
    status: s.status,
    next: toRfc3339OrZero(next),
    ephemeral: spec.ephemeral,
    starts_at: toRfc3339(spec.starts_at),
    expires_at: toRfc3339(spec.expires_at),
    catchup: spec.catchup,
    catchup_window: spec.catchup_window,
    retry_backoff: spec.retry_backoff ?? { ...DEFAULT_RETRY_BACKOFF },
  };
}
