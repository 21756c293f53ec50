// Semantic job checks (src/server/jobs/validate.ts) with the real shell executor as the registry
// entry, and the pure next-run rules (src/server/jobs/next.ts).
import { describe, expect, it } from "vitest";
import { shellExecutor } from "../../src/server/executors/shell.js";
import { nextRun, runnableAt } from "../../src/server/jobs/next.js";
import { validateJob, type ExecutorInfo } from "../../src/server/jobs/validate.js";
import { parseSchedule } from "../../src/shared/cron/index.js";
import { DkronError } from "../../src/shared/errors.js";
import { parseJobInput, type JobSpec } from "../../src/shared/job.js";

const executors: ReadonlyMap<string, ExecutorInfo> = new Map([["shell", shellExecutor]]);

function spec(over: Record<string, unknown> = {}): JobSpec {
  return parseJobInput({ name: "job", schedule: "@every 1m", executor_config: { command: "echo hi" }, ...over });
}

function expectInvalid(fn: () => unknown, field: string): string {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(DkronError);
  expect((caught as DkronError).code).toBe("invalid_argument");
  expect((caught as DkronError).field).toBe(field);
  return (caught as DkronError).message;
}

describe("validateJob", () => {
  it("returns the parsed schedule of a valid job", () => {
    const s = validateJob(spec({ schedule: "0 30 * * * *", timezone: "Europe/Berlin" }), executors);
    expect(s?.kind).toBe("cron");
    expect(s?.timezone).toBe("Europe/Berlin");
  });

  it("requires a schedule unless the job has a parent", () => {
    expect(expectInvalid(() => validateJob(spec({ schedule: "" }), executors), "schedule")).toMatch(/@manually/);
    expect(validateJob(spec({ schedule: "", parent_job: "parent" }), executors)).toBeNull();
  });

  it("accepts the valid forms of every shell executor key", () => {
    const cfg = { command: "sh -c 'echo \"a b\"'", timeout: "30s", mem_limit: "512MB", env: "A=1,B=x=y", payload: "aGVsbG8=", cwd: "/tmp" };
    expect(() => validateJob(spec({ executor_config: cfg }), executors)).not.toThrow();
    expect(() => validateJob(spec({ executor_config: { command: "echo 'unterminated", shell: "true" } }), executors)).not.toThrow();
  });

  it.each<[string, Record<string, unknown>, string]>([
    ["bad timezone", { timezone: "Mars/Olympus" }, "timezone"],
    ["bad schedule", { schedule: "every now and then" }, "schedule"],
    ["bad schedule field", { schedule: "0 99 * * * *" }, "schedule"],
    ["own parent", { parent_job: "job" }, "parent_job"],
    ["unknown executor", { executor: "docker" }, "executor"],
    ["missing command", { executor_config: {} }, "executor_config.command"],
    ["empty command", { executor_config: { command: "" } }, "executor_config.command"],
    ["blank command", { executor_config: { command: "   " } }, "executor_config.command"],
    ["unterminated quote", { executor_config: { command: "echo 'oops" } }, "executor_config.command"],
    ["bad timeout", { executor_config: { command: "x", timeout: "soon" } }, "executor_config.timeout"],
    ["zero timeout", { executor_config: { command: "x", timeout: "0s" } }, "executor_config.timeout"],
    ["negative timeout", { executor_config: { command: "x", timeout: "-5s" } }, "executor_config.timeout"],
    ["bad mem_limit", { executor_config: { command: "x", mem_limit: "lots" } }, "executor_config.mem_limit"],
    ["bad env", { executor_config: { command: "x", env: "NOEQUALS" } }, "executor_config.env"],
    ["env without key", { executor_config: { command: "x", env: "=v" } }, "executor_config.env"],
    ["payload not base64", { executor_config: { command: "x", payload: "not base64!" } }, "executor_config.payload"],
    ["bad catchup_window", { catchup_window: "forever" }, "catchup_window"],
    ["negative catchup_window", { catchup_window: "-1h" }, "catchup_window"],
    ["expires before starts", { starts_at: "2030-01-02T00:00:00Z", expires_at: "2030-01-01T00:00:00Z" }, "expires_at"],
    ["expires equal to starts", { starts_at: "2030-01-02T00:00:00Z", expires_at: "2030-01-02T00:00:00Z" }, "expires_at"],
    ["empty tag key", { tags: { "": "x" } }, "tags"],
  ])("%s → %s", (_what, over, field) => {
    expectInvalid(() => validateJob(spec(over), executors), field);
  });

  it("names the known executors when the executor is unknown", () => {
    expect(expectInvalid(() => validateJob(spec({ executor: "docker" }), executors), "executor")).toContain("shell");
  });

  it("accepts tags with a cardinality and a zero catch-up window", () => {
    expect(() => validateJob(spec({ tags: { role: "web:2", dc: "eu" }, catchup_window: "0s" }), executors)).not.toThrow();
  });

  it("takes values whose part after the last ':' is not a number as plain values", () => {
    expect(() => validateJob(spec({ tags: { role: "web:many", zone: "eu:", addr: "a:b:2" } }), executors)).not.toThrow();
  });
});

describe("nextRun and runnableAt", () => {
  const t = (iso: string) => Date.parse(iso);
  const every10 = parseSchedule("*/10 * * * * *", { jobName: "job" });

  it("is the first instant strictly after the reference", () => {
    expect(nextRun(spec(), every10, t("2030-01-01T00:00:00Z"))).toBe(t("2030-01-01T00:00:10Z"));
    expect(nextRun(spec(), every10, t("2030-01-01T00:00:05Z"))).toBe(t("2030-01-01T00:00:10Z"));
  });

  it("is null without a schedule, for disabled jobs, and for schedules that never fire again", () => {
    expect(nextRun(spec(), null, 0)).toBeNull();
    expect(nextRun(spec({ disabled: true }), every10, 0)).toBeNull();
    expect(nextRun(spec(), parseSchedule("@manually", { jobName: "job" }), 0)).toBeNull();
    const at = parseSchedule("@at 2030-01-01T00:00:00Z", { jobName: "job" });
    expect(nextRun(spec(), at, t("2029-12-31T00:00:00Z"))).toBe(t("2030-01-01T00:00:00Z"));
    expect(nextRun(spec(), at, t("2030-01-01T00:00:00Z"))).toBeNull();
  });

  it("waits for starts_at, including an instant exactly at starts_at", () => {
    const s = spec({ starts_at: "2030-01-01T00:01:00Z" });
    expect(nextRun(s, every10, t("2030-01-01T00:00:00Z"))).toBe(t("2030-01-01T00:01:00Z"));
    const s2 = spec({ starts_at: "2030-01-01T00:01:03Z" });
    expect(nextRun(s2, every10, t("2030-01-01T00:00:00Z"))).toBe(t("2030-01-01T00:01:10Z"));
    // a past starts_at changes nothing
    expect(nextRun(s, every10, t("2030-01-01T00:05:00Z"))).toBe(t("2030-01-01T00:05:10Z"));
  });

  it("stops after expires_at, including an instant exactly at expires_at", () => {
    const s = spec({ expires_at: "2030-01-01T00:00:20Z" });
    expect(nextRun(s, every10, t("2030-01-01T00:00:10Z"))).toBe(t("2030-01-01T00:00:20Z"));
    expect(nextRun(s, every10, t("2030-01-01T00:00:20Z"))).toBeNull();
  });

  it("runnableAt applies disabled, starts_at and expires_at inclusively", () => {
    const s = spec({ starts_at: "2030-01-01T00:00:00Z", expires_at: "2030-01-02T00:00:00Z" });
    expect(runnableAt(s, t("2029-12-31T23:59:59Z"))).toBe(false);
    expect(runnableAt(s, t("2030-01-01T00:00:00Z"))).toBe(true);
    expect(runnableAt(s, t("2030-01-02T00:00:00Z"))).toBe(true);
    expect(runnableAt(s, t("2030-01-02T00:00:01Z"))).toBe(false);
    expect(runnableAt(spec({ disabled: true }), t("2030-01-01T00:00:00Z"))).toBe(false);
    expect(runnableAt(spec(), 0)).toBe(true);
  });
});
