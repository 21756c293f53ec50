// Dkron's Job JSON as users send it (src/shared/job.ts parseJobInput): defaults, field errors
// that name the field, server-maintained fields ignored, and the accepted time forms.
import { describe, expect, it } from "vitest";
import { DkronError } from "../../src/shared/errors.js";
import { parseJobInput } from "../../src/shared/job.js";

function expectInvalid(body: unknown, field: string): string {
  let caught: unknown;
  try {
    parseJobInput(body);
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected ${JSON.stringify(body)} to be rejected`).toBeInstanceOf(DkronError);
  const e = caught as DkronError;
  expect(e.code).toBe("invalid_argument");
  expect(e.field).toBe(field);
  expect(e.message.startsWith(`${field}: `)).toBe(true);
  return e.message;
}

describe("parseJobInput defaults", () => {
  it("fills every field Dkron defaults", () => {
    expect(parseJobInput({ name: "backup" })).toEqual({
      name: "backup",
      displayname: "",
      timezone: "",
      schedule: "",
      owner: "",
      owner_email: "",
      disabled: false,
      tags: {},
      metadata: {},
      retries: 0,
      parent_job: "",
      dependent_jobs: [],
      processors: {},
      concurrency: "allow",
      executor: "shell",
      executor_config: {},
      ephemeral: false,
      starts_at: null,
      expires_at: null,
      catchup: "last",
      catchup_window: "1h",
      retry_backoff: { initial: "500ms", max: "1m", multiplier: 2 },
      incarnation: "",
    });
  });

  it("treats null maps as empty, empty executor as shell, empty concurrency as allow; trims the schedule", () => {
    const s = parseJobInput({ name: "j", tags: null, metadata: null, processors: null, executor_config: null, executor: "", concurrency: "", schedule: "  @every 10s \n" });
    expect(s.tags).toEqual({});
    expect(s.metadata).toEqual({});
    expect(s.processors).toEqual({});
    expect(s.executor_config).toEqual({});
    expect(s.executor).toBe("shell");
    expect(s.concurrency).toBe("allow");
    expect(s.schedule).toBe("@every 10s");
  });

  it("stores scalar config values as strings, as Dkron does", () => {
    const s = parseJobInput({ name: "j", executor_config: { command: "echo", timeout: 30, shell: true }, tags: { n: 1 }, processors: { log: { forward: false } } });
    expect(s.executor_config).toEqual({ command: "echo", timeout: "30", shell: "true" });
    expect(s.tags).toEqual({ n: "1" });
    expect(s.processors).toEqual({ log: { forward: "false" } });
  });

  it("keeps every user field it was given", () => {
    const body = {
      name: "full_job-1", displayname: "Full", timezone: "Europe/Berlin", schedule: "0 0 * * * *", owner: "me",
      owner_email: "me@example.com", disabled: true, tags: { role: "web:2" }, metadata: { team: "ops" }, retries: 3,
      parent_job: "parent", concurrency: "forbid", executor: "http", executor_config: { url: "http://x" },
      ephemeral: true, catchup: "all", catchup_window: "30m",
    };
    const s = parseJobInput(body);
    for (const [k, v] of Object.entries(body)) expect(s[k as keyof typeof s], k).toEqual(v);
  });
});

describe("parseJobInput ignores server-maintained fields", () => {
  it("drops counters, status, next and dependent_jobs, and unknown fields", () => {
    const s = parseJobInput({
      name: "j", id: "j", success_count: 7, error_count: 3, last_success: "2020-01-01T00:00:00Z", last_error: "x",
      status: "success", next: "2030-01-01T00:00:00Z", dependent_jobs: ["child"], whatever: 1,
    });
    expect(s.dependent_jobs).toEqual([]);
    for (const k of ["id", "success_count", "error_count", "last_success", "last_error", "status", "next", "whatever"]) {
      expect(s).not.toHaveProperty(k);
    }
  });
});

describe("parseJobInput field errors", () => {
  it.each<[string, unknown, string]>([
    ["missing name", {}, "name"],
    ["empty name", { name: "" }, "name"],
    ["uppercase name", { name: "Backup" }, "name"],
    ["name with a space", { name: "a b" }, "name"],
    ["name with a dot", { name: "a.b" }, "name"],
    ["name too long", { name: "a".repeat(201) }, "name"],
    ["negative retries", { name: "j", retries: -1 }, "retries"],
    ["fractional retries", { name: "j", retries: 1.5 }, "retries"],
    ["retries as string", { name: "j", retries: "2" }, "retries"],
    ["too many retries", { name: "j", retries: 101 }, "retries"],
    ["disabled as string", { name: "j", disabled: "yes" }, "disabled"],
    ["unknown concurrency", { name: "j", concurrency: "sometimes" }, "concurrency"],
    ["unknown catchup", { name: "j", catchup: "some" }, "catchup"],
    ["non-scalar tag", { name: "j", tags: { a: {} } }, "tags.a"],
    ["nested executor_config", { name: "j", executor_config: { command: ["ls"] } }, "executor_config.command"],
    ["nested processor config", { name: "j", processors: { log: { a: {} } } }, "processors.log.a"],
    ["schedule as number", { name: "j", schedule: 5 }, "schedule"],
    ["garbage starts_at", { name: "j", starts_at: "next tuesday" }, "starts_at"],
    ["garbage expires_at", { name: "j", expires_at: "2024-13-45T00:00:00Z" }, "expires_at"],
    ["numeric starts_at", { name: "j", starts_at: 1700000000 }, "starts_at"],
  ])("%s → %s", (_what, body, field) => {
    expectInvalid(body, field);
  });

  it("a missing name says it is required", () => {
    expect(expectInvalid({ schedule: "@daily" }, "name")).toBe("name: is required");
  });

  it.each([[null], [[]], ["job"], [5]])("a body that is not an object (%j) is a body error", (body) => {
    expectInvalid(body, "body");
  });

  it("accepts Unicode lowercase letters, digits, '_' and '-' in names", () => {
    expect(parseJobInput({ name: "été_2024-x" }).name).toBe("été_2024-x");
  });
});

describe("parseJobInput times", () => {
  it("parses RFC3339 with Z, offsets and fractions", () => {
    expect(parseJobInput({ name: "j", starts_at: "2024-01-02T03:04:05Z" }).starts_at).toBe(Date.UTC(2024, 0, 2, 3, 4, 5));
    expect(parseJobInput({ name: "j", starts_at: "2024-01-02T03:04:05+02:00" }).starts_at).toBe(Date.UTC(2024, 0, 2, 1, 4, 5));
    expect(parseJobInput({ name: "j", expires_at: "2024-01-02T03:04:05.250-01:30" }).expires_at).toBe(Date.UTC(2024, 0, 2, 4, 34, 5, 250));
  });

  it('parses Dkron\'s short form "2006-01-02T15:04" as UTC', () => {
    expect(parseJobInput({ name: "j", starts_at: "2006-01-02T15:04" }).starts_at).toBe(Date.UTC(2006, 0, 2, 15, 4));
    expect(parseJobInput({ name: "j", expires_at: "2030-12-31T23:59" }).expires_at).toBe(Date.UTC(2030, 11, 31, 23, 59));
  });

  it("treats null, empty and Go's zero time as no time", () => {
    for (const v of [null, "", "0001-01-01T00:00:00Z"]) {
      const s = parseJobInput({ name: "j", starts_at: v, expires_at: v });
      expect(s.starts_at).toBeNull();
      expect(s.expires_at).toBeNull();
    }
  });

  // Date.parse alone would accept these: "1" as 2001-01-01 in the server's local zone, "March 7,
  // 2024" and "2024-01-02 10:00" in local time, and 2024-02-30 rolled over into March. Go rejects them.
  it.each(["1", "March 7, 2024", "2024-01-02 10:00", "2024-01-02", "2024-02-30T00:00:00Z"])(
    "rejects %j, which is not RFC3339 nor the short form",
    (v) => {
      expectInvalid({ name: "j", starts_at: v }, "starts_at");
    },
  );
});
