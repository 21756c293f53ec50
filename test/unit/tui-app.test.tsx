// The dashboard rendered with ink-testing-library at a fixed size, against an
// in-memory API; keys go in through stdin.
import { render } from "ink-testing-library";
import { afterEach, describe, expect, it } from "vitest";
import { DkronError } from "../../src/shared/errors.js";
import type { Execution } from "../../src/shared/execution.js";
import type { Job } from "../../src/shared/job.js";
import type { Member } from "../../src/shared/member.js";
import type { TuiApi } from "../../src/tui/api.js";
import { App } from "../../src/tui/app.js";
import { JobsTable } from "../../src/tui/components/JobsTable.js";
import type { DataOptions } from "../../src/tui/hooks/useClusterData.js";
import { until } from "../helpers/until.js";

const NOW = Date.parse("2025-06-01T12:00:00Z");
const at = (offsetMs: number) => new Date(NOW + offsetMs).toISOString();
const ZERO = "0001-01-01T00:00:00Z";
const ANSI_COLOR = /\x1b\[(3[0-9]|9[0-7])m/;

function job(name: string, over: Partial<Job> = {}): Job {
  return {
    id: name, name, displayname: "", timezone: "", schedule: "@every 1m", owner: "", owner_email: "",
    success_count: 0, error_count: 0, last_success: null, last_error: null, disabled: false, tags: {}, metadata: {},
    retries: 0, dependent_jobs: null, parent_job: "", processors: {}, concurrency: "allow", executor: "shell",
    executor_config: { command: "echo hi" }, status: "", next: at(30_000), ephemeral: false, starts_at: null, expires_at: null,
    catchup: "last", catchup_window: "1h", retry_backoff: { initial: "500ms", max: "1m", multiplier: 2 }, ...over,
  };
}

const member = (name: string, leader = false): Member => ({
  id: name, Name: name, Addr: "10.0.0.1", Port: 8946, Tags: { dc: "eu" }, Status: 1, ProtocolMin: 1, ProtocolMax: 5,
  ProtocolCur: 2, DelegateMin: 2, DelegateMax: 5, DelegateCur: 4, statusText: "alive", role: "server", leader,
  last_seen: at(-1000), version: "0.1.0",
});

/** An in-memory server: run adds a finished execution, toggle flips, save validates the schedule. */
class FakeApi implements TuiApi {
  readonly address = "http://fake:8080";
  jobs = new Map<string, Job>();
  execs = new Map<string, Execution[]>();
  calls: string[] = [];
  killError?: DkronError;
  constructor(jobs: Job[]) {
    for (const j of jobs) this.jobs.set(j.name, j);
  }
  private need(name: string): Job {
    const j = this.jobs.get(name);
    if (!j) throw new DkronError("not_found", `job ${name} not found`);
    return j;
  }
  async listJobs() { return [...this.jobs.values()]; }
  async getJob(name: string) { return this.need(name); }
  async members() { return [member("n1", true), member("n2")]; }
  async leader() { return "n1"; }
  async info() { return { node: "n1", paused: false }; }
  async executions(job: string) { return this.execs.get(job) ?? []; }
  async running() { return [...this.execs.values()].flat().filter((e) => e.finished_at === ZERO); }
  async execution(job: string, id: string) {
    const e = (this.execs.get(job) ?? []).find((x) => x.id === id);
    if (!e) throw new DkronError("not_found", "no execution");
    return e;
  }
  async run(name: string) {
    this.calls.push(`run ${name}`);
    const list = this.execs.get(name) ?? [];
    const n = list.length + 1;
    this.execs.set(name, [{ id: `${n}-n1`, job_name: name, started_at: at(-2000), finished_at: at(-1000), success: true, output: "hi\n", node_name: "n1", group: 0, attempt: 1 }, ...list]);
    return this.need(name);
  }
  async toggle(name: string) {
    this.calls.push(`toggle ${name}`);
    const j = { ...this.need(name), disabled: !this.need(name).disabled };
    this.jobs.set(name, j);
    return j;
  }
  async remove(name: string) {
    const j = this.need(name);
    this.jobs.delete(name);
    return j;
  }
  async save(body: Record<string, unknown>) {
    this.calls.push(`save ${String(body.name)}`);
    if (body.schedule === "bogus") throw new DkronError("invalid_argument", 'schedule: cannot parse "bogus"', "schedule");
    const j = job(String(body.name), { schedule: String(body.schedule) });
    this.jobs.set(j.name, j);
    return j;
  }
  async kill(job: string, id: string) {
    this.calls.push(`kill ${job} ${id}`);
    if (this.killError) throw this.killError;
  }
}

const data: DataOptions = { pollMs: 50, resyncMs: 60_000, now: () => NOW };
const mounted: Array<{ unmount(): void }> = [];
afterEach(() => {
  for (const m of mounted.splice(0)) m.unmount();
});

function mount(api: TuiApi, size = { columns: 80, rows: 24 }, color = true) {
  const r = render(<App api={api} streams={null} size={size} color={color} data={data} />);
  mounted.push(r);
  const frame = () => r.lastFrame() ?? "";
  return {
    ...r,
    frame,
    /** Waits until the screen shows `text` (or satisfies the predicate). */
    async see(what: string | ((f: string) => boolean), message?: string) {
      const ok = typeof what === "string" ? (f: string) => f.includes(what) : what;
      await until(() => ok(frame()), { timeoutMs: 5000, message: message ?? `screen to show ${String(what)}\n${frame()}` }).catch((e: Error) => {
        throw new Error(`${e.message}\n--- screen ---\n${frame()}`);
      });
    },
    press(...keys: string[]) {
      for (const k of keys) r.stdin.write(k);
    },
  };
}

const KEY = { enter: "\r", esc: "\x1b", tab: "\t", down: "\x1b[B", up: "\x1b[A" };

describe("dashboard", () => {
  it("draws header, jobs, detail and hints within 80x24", async () => {
    const t = mount(new FakeApi([job("backup", { tags: { role: "web" } }), job("cleanup", { parent_job: "backup", schedule: "" })]));
    await t.see("cleanup");
    const lines = t.frame().split("\n");
    expect(lines.length).toBeLessThanOrEqual(24);
    for (const l of lines) expect([...l.replace(/\x1b\[[0-9;]*m/g, "")].length).toBeLessThanOrEqual(80);
    const f = t.frame();
    expect(f).toContain("leader ★ n1");
    expect(f).toContain("2/2 nodes");
    expect(f).toContain("Jobs (2)");
    expect(f).toMatch(/› backup\s+@every 1m\s+in 30s/);
    expect(f).toContain("after backup");
    expect(f).toContain("role=web");
    expect(f).toContain("└─ cleanup");
    expect(f).toContain("?:help");
  });

  it("runs the selected job with r and shows the new execution", async () => {
    const api = new FakeApi([job("alpha"), job("beta")]);
    const t = mount(api);
    await t.see("no executions yet");
    t.press("j");
    await t.see("› beta");
    t.press("r");
    await t.see("✓ ok", "the execution in the detail pane");
    expect(api.calls).toContain("run beta");
  });

  it("toggles with t and shows the job disabled", async () => {
    const api = new FakeApi([job("alpha")]);
    const t = mount(api);
    await t.see("› alpha");
    t.press("t");
    await t.see((f) => /alpha.*disabled/.test(f));
    expect(api.jobs.get("alpha")!.disabled).toBe(true);
  });

  it("filters with / and clears with Esc", async () => {
    const t = mount(new FakeApi([job("web-1"), job("web-2"), job("db-1")]));
    await t.see("db-1");
    t.press("/", "w", "e", "b");
    await t.see('filter "web"');
    expect(t.frame()).not.toContain("db-1");
    expect(t.frame()).toContain("/web█");
    t.press(KEY.esc);
    await t.see("db-1");
  });

  it("adds a job in the form and shows the server's error next to its field", async () => {
    const api = new FakeApi([]);
    const t = mount(api);
    await t.see("no jobs yet");
    t.press("a");
    await t.see("Add job");
    t.press("n", "e", "w", KEY.tab, KEY.tab, "b", "o", "g", "u", "s", KEY.enter);
    await t.see('↳ cannot parse "bogus"');
    const lines = t.frame().split("\n");
    const at = lines.findIndex((l) => l.includes("schedule") && l.includes("bogus"));
    expect(lines[at + 1]).toContain("↳ cannot parse");
    for (let i = 0; i < 5; i++) t.press("\x7f");
    t.press("@", "d", "a", "i", "l", "y", KEY.enter);
    await t.see("new: created");
    expect(api.jobs.get("new")?.schedule).toBe("@daily");
  });

  it("asks before deleting", async () => {
    const api = new FakeApi([job("doomed")]);
    const t = mount(api);
    await t.see("› doomed");
    t.press("d");
    await t.see("Delete job doomed?");
    t.press("y");
    await t.see("doomed: deleted");
    expect(api.jobs.size).toBe(0);
  });

  it("shows the kill error inline", async () => {
    const api = new FakeApi([job("long")]);
    api.execs.set("long", [{ id: "9-n1", job_name: "long", started_at: at(-3000), finished_at: ZERO, success: false, output: "working\n", node_name: "n2", group: 0, attempt: 1 }]);
    api.killError = new DkronError("not_found", "route not found");
    const t = mount(api);
    await t.see("● running");
    t.press("x");
    await t.see("✗ kill: route not found");
    expect(api.calls).toContain("kill long 9-n1");
  });

  it("opens an execution's output and the members view", async () => {
    const api = new FakeApi([job("a")]);
    api.execs.set("a", [{ id: "1-n1", job_name: "a", started_at: at(-3000), finished_at: at(-1000), success: true, output: "first line\nsecond line\n", node_name: "n1", group: 0, attempt: 1 }]);
    const t = mount(api);
    await t.see("✓ ok");
    t.press(KEY.tab, KEY.enter);
    await t.see("second line");
    await t.see("output · finished");
    t.press(KEY.esc);
    await t.see("[1 Jobs]");
    t.press("2");
    await t.see("Members (2)");
    expect(t.frame()).toMatch(/★ n1\s+server\s+alive/);
  });

  it("lists every key in the help overlay", async () => {
    const t = mount(new FakeApi([job("a")]), { columns: 100, rows: 30 });
    await t.see("› a");
    t.press("?");
    await t.see("Keys · Esc closes");
    for (const words of ["run the job now", "enable / disable", "delete the job", "kill the running", "add a job", "edit the job", "parent job", "child job", "quit", "switch pane", "filter"]) {
      expect(t.frame()).toContain(words);
    }
    t.press(KEY.esc);
    await t.see("› a");
  });

  it("uses no colour when asked not to", async () => {
    const t = mount(new FakeApi([job("a", { status: "failed", error_count: 2, last_error: at(-5000) })]), { columns: 80, rows: 24 }, false);
    await t.see("› a");
    expect(t.frame()).not.toMatch(ANSI_COLOR);
    expect(t.frame()).toContain("✗ 5s ago");
  });
});

describe("JobsTable", () => {
  it("renders only the rows in its window, whatever the number of jobs", () => {
    const jobs = Array.from({ length: 1000 }, (_, i) => job(`job-${String(i).padStart(4, "0")}`));
    const r = render(
      <JobsTable jobs={jobs} total={1000} cursor={500} scroll={495} rows={10} width={80} now={NOW} running={{}} focused sort={{ key: "name", desc: false }} filter="" loaded />,
    );
    const f = r.lastFrame() ?? "";
    r.unmount();
    const rows = f.split("\n").filter((l) => /job-\d{4}/.test(l));
    expect(rows).toHaveLength(10);
    expect(rows[0]).toContain("job-0495");
    expect(f).toContain("› job-0500");
    expect(f).toContain("495 more ↓");
  });
});
