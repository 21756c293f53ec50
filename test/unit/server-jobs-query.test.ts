// /v1/jobs server-side filtering, sorting and paging (src/server/jobs/query.ts): every filter,
// every sort key in both orders, paging and totals, and bad parameters as invalid_argument
// errors that name the offending field.
import { jobJson } from "../helpers/fixtures.js";
import { describe, expect, it } from "vitest";
import { applyJobQuery, parseJobQuery } from "../../src/server/jobs/query.js";
import { DkronError } from "../../src/shared/errors.js";
import type { Job } from "../../src/shared/job.js";

const job = (name: string, over: Partial<Job> = {}): Job => jobJson(name, over);

const query = (jobs: Job[], qs: string) => applyJobQuery(jobs, parseJobQuery(new URLSearchParams(qs)));
const names = (r: { items: Job[] }) => r.items.map((j) => j.name);

function expectInvalid(fn: () => unknown, field: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(DkronError);
  expect((caught as DkronError).code).toBe("invalid_argument");
  expect((caught as DkronError).field).toBe(field);
  expect((caught as DkronError).message).toContain(field);
}

describe("parseJobQuery", () => {
  it("has Dkron's defaults", () => {
    const q = parseJobQuery(new URLSearchParams(""));
    expect(q).toEqual({ q: undefined, status: undefined, disabled: undefined, metadata: {}, sort: "name", order: "ASC", start: 0, end: undefined });
  });

  it("reads every parameter; _sort=id means name; _order is case-insensitive", () => {
    const q = parseJobQuery(new URLSearchParams("q=Foo&status=failed&disabled=true&metadata[team]=a&metadata[env]=prod&_sort=id&_order=desc&_start=2&_end=5"));
    expect(q).toEqual({ q: "Foo", status: "failed", disabled: true, metadata: { team: "a", env: "prod" }, sort: "name", order: "DESC", start: 2, end: 5 });
    expect(parseJobQuery(new URLSearchParams("disabled=false")).disabled).toBe(false);
    expect(parseJobQuery(new URLSearchParams("disabled=")).disabled).toBeUndefined();
    expect(parseJobQuery(new URLSearchParams("status=")).status).toBeUndefined();
  });

  it.each([
    ["_sort=bogus", "_sort"],
    ["_sort=owner", "_sort"],
    ["_order=up", "_order"],
    ["disabled=yes", "disabled"],
    ["status=running", "status"],
    ["_start=-1", "_start"],
    ["_start=1.5", "_start"],
    ["_start=abc", "_start"],
    ["_end=ten", "_end"],
    ["_end=-3", "_end"],
  ])("rejects %s naming field %s", (qs, field) => {
    expectInvalid(() => parseJobQuery(new URLSearchParams(qs)), field);
  });
});

describe("applyJobQuery filters", () => {
  const jobs = [
    job("alpha", { displayname: "Nightly Backup", status: "success", metadata: { team: "ops", env: "prod" } }),
    job("beta", { status: "failed", disabled: true, metadata: { team: "ops", env: "dev" } }),
    job("gamma-backup", { status: "partially_failed", metadata: { team: "data" } }),
    job("delta", { status: "", disabled: true }),
  ];

  it("q matches name or displayname, case-insensitively", () => {
    expect(names(query(jobs, "q=BACKUP"))).toEqual(["alpha", "gamma-backup"]);
    expect(names(query(jobs, "q=eta"))).toEqual(["beta"]);
    expect(query(jobs, "q=zzz")).toEqual({ items: [], total: 0 });
  });

  it("status filters each status; untriggered means no status yet", () => {
    expect(names(query(jobs, "status=success"))).toEqual(["alpha"]);
    expect(names(query(jobs, "status=failed"))).toEqual(["beta"]);
    expect(names(query(jobs, "status=partially_failed"))).toEqual(["gamma-backup"]);
    expect(names(query(jobs, "status=untriggered"))).toEqual(["delta"]);
  });

  it("disabled filters both ways", () => {
    expect(names(query(jobs, "disabled=true"))).toEqual(["beta", "delta"]);
    expect(names(query(jobs, "disabled=false"))).toEqual(["alpha", "gamma-backup"]);
  });

  it("metadata[k]=v filters AND together", () => {
    expect(names(query(jobs, "metadata[team]=ops"))).toEqual(["alpha", "beta"]);
    expect(names(query(jobs, "metadata[team]=ops&metadata[env]=prod"))).toEqual(["alpha"]);
    expect(names(query(jobs, "metadata[team]=nobody"))).toEqual([]);
  });

  it("combines filters, and total counts the filtered set", () => {
    const r = query(jobs, "metadata[team]=ops&disabled=true&q=a");
    expect(names(r)).toEqual(["beta"]);
    expect(r.total).toBe(1);
  });
});

describe("applyJobQuery sorting", () => {
  // For every key the values are chosen so that ascending order is c, a, b, i.e. neither the
  // name order nor the insertion order: a sort that ignores the key fails.
  const cases: Array<[string, Partial<Job>, Partial<Job>, Partial<Job>]> = [
    ["displayname", { displayname: "m" }, { displayname: "z" }, { displayname: "b" }],
    ["schedule", { schedule: "@hourly" }, { schedule: "@weekly" }, { schedule: "@daily" }],
    // numbers compare as numbers: "10" < "5" as strings
    ["success_count", { success_count: 5 }, { success_count: 10 }, { success_count: 1 }],
    ["error_count", { error_count: 9 }, { error_count: 100 }, { error_count: 0 }],
    ["last_success", { last_success: "2020-01-01T00:00:00Z" }, { last_success: "2021-06-01T00:00:00Z" }, { last_success: null }],
    ["last_error", { last_error: "2022-01-01T00:00:00Z" }, { last_error: "2023-01-01T00:00:00Z" }, { last_error: null }],
    ["next", { next: "2024-01-01T00:00:00Z" }, { next: "2025-01-01T00:00:00Z" }, { next: "0001-01-01T00:00:00Z" }],
    ["status", { status: "failed" }, { status: "success" }, { status: "" }],
    ["executor", { executor: "nats" }, { executor: "shell" }, { executor: "http" }],
  ];

  it.each(cases)("sorts by %s ascending and descending", (key, a, b, c) => {
    const jobs = [job("b", b), job("a", a), job("c", c)];
    expect(names(query(jobs, `_sort=${key}&_order=ASC`))).toEqual(["c", "a", "b"]);
    expect(names(query(jobs, `_sort=${key}`))).toEqual(["c", "a", "b"]);
    expect(names(query(jobs, `_sort=${key}&_order=DESC`))).toEqual(["b", "a", "c"]);
  });

  it("sorts by name (and id) both ways", () => {
    const jobs = [job("b"), job("c"), job("a")];
    expect(names(query(jobs, ""))).toEqual(["a", "b", "c"]);
    expect(names(query(jobs, "_sort=id&_order=DESC"))).toEqual(["c", "b", "a"]);
    expect(names(query(jobs, "_sort=name&_order=desc"))).toEqual(["c", "b", "a"]);
  });

  it("sorts by disabled both ways, ties broken by name", () => {
    const jobs = [job("b", { disabled: true }), job("c"), job("a", { disabled: true }), job("d")];
    expect(names(query(jobs, "_sort=disabled"))).toEqual(["c", "d", "a", "b"]);
    expect(names(query(jobs, "_sort=disabled&_order=DESC"))).toEqual(["a", "b", "c", "d"]);
  });

  it("does not mutate the input list", () => {
    const jobs = [job("b"), job("a")];
    query(jobs, "_sort=name");
    expect(jobs.map((j) => j.name)).toEqual(["b", "a"]);
  });
});

describe("applyJobQuery paging", () => {
  const jobs = Array.from({ length: 10 }, (_, i) => job(`job-${String(i).padStart(2, "0")}`));

  it("_start/_end select a half-open window; total is the full filtered count", () => {
    const r = query(jobs, "_start=2&_end=5");
    expect(names(r)).toEqual(["job-02", "job-03", "job-04"]);
    expect(r.total).toBe(10);
  });

  it("_end alone, _start alone, and ends beyond the list", () => {
    expect(names(query(jobs, "_end=2"))).toEqual(["job-00", "job-01"]);
    expect(names(query(jobs, "_start=8"))).toEqual(["job-08", "job-09"]);
    expect(names(query(jobs, "_start=8&_end=100"))).toEqual(["job-08", "job-09"]);
    expect(query(jobs, "_start=20")).toEqual({ items: [], total: 10 });
  });

  it("an empty or inverted window is empty, not an error", () => {
    expect(query(jobs, "_start=5&_end=5")).toEqual({ items: [], total: 10 });
    expect(query(jobs, "_start=6&_end=3")).toEqual({ items: [], total: 10 });
  });

  it("pages after sorting and filtering", () => {
    const r = query(jobs, "_sort=name&_order=DESC&_start=0&_end=3&q=job-0");
    expect(names(r)).toEqual(["job-09", "job-08", "job-07"]);
    expect(r.total).toBe(10);
  });
});
