// The add/edit job form: fields, editing, the request body, and where the
// server's validation error goes. Pure.
import type { Job } from "../../shared/job.js";

export type FieldKey =
  | "name" | "displayname" | "schedule" | "timezone" | "executor" | "command" | "shell"
  | "tags" | "parent_job" | "concurrency" | "retries" | "disabled";

export interface FieldDef {
  key: FieldKey;
  label: string;
  kind: "text" | "toggle" | "choice";
  choices?: readonly string[];
  placeholder?: string;
}

export const FIELDS: readonly FieldDef[] = [
  { key: "name", label: "name", kind: "text", placeholder: "lowercase letters, digits, - and _" },
  { key: "displayname", label: "display name", kind: "text" },
  { key: "schedule", label: "schedule", kind: "text", placeholder: "@every 1m, 0 */5 * * * *, @manually" },
  { key: "timezone", label: "timezone", kind: "text", placeholder: "UTC" },
  { key: "executor", label: "executor", kind: "text" },
  { key: "command", label: "command", kind: "text", placeholder: "executor_config.command" },
  { key: "shell", label: "via /bin/sh", kind: "toggle" },
  { key: "tags", label: "tags", kind: "text", placeholder: "role=web:1, dc=eu" },
  { key: "parent_job", label: "parent job", kind: "text" },
  // shared/job.ts CONCURRENCY, not imported: it would bring zod into the dashboard's start-up.
  { key: "concurrency", label: "concurrency", kind: "choice", choices: ["allow", "forbid", "replace"] },
  { key: "retries", label: "retries", kind: "text" },
  { key: "disabled", label: "disabled", kind: "toggle" },
];

export type Values = Record<FieldKey, string>;

export interface FormState {
  mode: "add" | "edit";
  /** The job being edited: fields the form doesn't show are sent back unchanged. */
  original?: Job;
  values: Values;
  focus: number;
  errors: Partial<Record<FieldKey, string>>;
  /** A server error that names no field of the form. */
  formError?: string;
  saving: boolean;
}

const yes = (b: boolean) => (b ? "yes" : "no");
const formatTags = (t: Record<string, string> | null | undefined) =>
  Object.entries(t ?? {}).map(([k, v]) => `${k}=${v}`).join(", ");

export function newForm(): FormState {
  return {
    mode: "add",
    values: {
      name: "", displayname: "", schedule: "", timezone: "", executor: "shell", command: "", shell: "no",
      tags: "", parent_job: "", concurrency: "allow", retries: "0", disabled: "no",
    },
    focus: 0,
    errors: {},
    saving: false,
  };
}

export function editForm(job: Job): FormState {
  const cfg = job.executor_config ?? {};
  return {
    mode: "edit",
    original: job,
    values: {
      name: job.name,
      displayname: job.displayname ?? "",
      schedule: job.schedule ?? "",
      timezone: job.timezone ?? "",
      executor: job.executor || "shell",
      command: cfg.command ?? "",
      shell: yes(cfg.shell === "true"),
      tags: formatTags(job.tags),
      parent_job: job.parent_job ?? "",
      concurrency: job.concurrency || "allow",
      retries: String(job.retries ?? 0),
      disabled: yes(job.disabled),
    },
    // The name is the key: editing starts on the schedule.
    focus: 2,
    errors: {},
    saving: false,
  };
}

export const focusedField = (f: FormState): FieldDef => FIELDS[f.focus]!;
/** Renaming would create another job, so the name is fixed while editing. */
export const isReadOnly = (f: FormState, key: FieldKey): boolean => f.mode === "edit" && key === "name";

function setValue(f: FormState, key: FieldKey, value: string): FormState {
  const { [key]: _cleared, ...errors } = f.errors;
  return { ...f, values: { ...f.values, [key]: value }, errors };
}

export function formType(f: FormState, text: string): FormState {
  const field = focusedField(f);
  if (field.kind !== "text" || isReadOnly(f, field.key)) return text === " " ? formCycle(f) : f;
  return setValue(f, field.key, f.values[field.key] + text.replace(/[\r\n\t]/g, " "));
}

export function formErase(f: FormState): FormState {
  const field = focusedField(f);
  if (field.kind !== "text" || isReadOnly(f, field.key)) return f;
  return setValue(f, field.key, [...f.values[field.key]].slice(0, -1).join(""));
}

export function formCycle(f: FormState): FormState {
  const field = focusedField(f);
  if (field.kind === "toggle") return setValue(f, field.key, f.values[field.key] === "yes" ? "no" : "yes");
  if (field.kind === "choice" && field.choices) {
    const i = field.choices.indexOf(f.values[field.key]);
    return setValue(f, field.key, field.choices[(i + 1) % field.choices.length]!);
  }
  return f;
}

export const formMove = (f: FormState, delta: number): FormState => ({
  ...f,
  focus: (f.focus + delta + FIELDS.length) % FIELDS.length,
});

function parseTags(text: string): Record<string, string> | string {
  const out: Record<string, string> = {};
  for (const part of text.split(",")) {
    const p = part.trim();
    if (!p) continue;
    const eq = p.indexOf("=");
    if (eq <= 0) return `"${p}" is not key=value`;
    out[p.slice(0, eq).trim()] = p.slice(eq + 1).trim();
  }
  return out;
}

/** Fields the server maintains: not sent back. */
const SERVER_FIELDS = ["id", "success_count", "error_count", "last_success", "last_error", "status", "next", "dependent_jobs"];

/** The POST /v1/jobs body, or the errors found before asking the server. */
export function buildBody(f: FormState): { body: Record<string, unknown> } | { errors: Partial<Record<FieldKey, string>> } {
  const v = f.values;
  const errors: Partial<Record<FieldKey, string>> = {};
  const tags = parseTags(v.tags);
  if (typeof tags === "string") errors.tags = tags;
  if (!/^\d+$/.test(v.retries.trim())) errors.retries = "must be a whole number, 0 or more";
  if (Object.keys(errors).length) return { errors };
  const base: Record<string, unknown> = { ...(f.original ?? {}) };
  for (const k of SERVER_FIELDS) delete base[k];
  const config: Record<string, string> = { ...(f.original?.executor_config ?? {}) };
  if (v.command.trim()) config.command = v.command.trim();
  else delete config.command;
  if (v.shell === "yes") config.shell = "true";
  else delete config.shell;
  return {
    body: {
      ...base,
      name: v.name.trim(),
      displayname: v.displayname,
      schedule: v.schedule.trim(),
      timezone: v.timezone.trim(),
      executor: v.executor.trim() || "shell",
      executor_config: config,
      tags: tags as Record<string, string>,
      parent_job: v.parent_job.trim(),
      concurrency: v.concurrency,
      retries: Number(v.retries.trim()),
      disabled: v.disabled === "yes",
    },
  };
}

/** The form field a server error's `field` (a dotted path) is about. */
export function fieldFor(path: string | undefined): FieldKey | undefined {
  if (!path) return undefined;
  const head = path.split(".")[0]!;
  if (path.startsWith("executor_config.shell")) return "shell";
  if (head === "executor_config") return "command";
  return FIELDS.some((d) => d.key === head) ? (head as FieldKey) : undefined;
}

/** Puts the server's validation error next to the field it names (or under the form). */
export function withServerError(f: FormState, err: { message: string; field?: string }): FormState {
  const key = fieldFor(err.field);
  const message = err.field && err.message.startsWith(`${err.field}: `) ? err.message.slice(err.field.length + 2) : err.message;
  if (!key) return { ...f, saving: false, formError: err.message };
  return { ...f, saving: false, focus: FIELDS.findIndex((d) => d.key === key), errors: { ...f.errors, [key]: message } };
}
