// The dashboard's state machine, without rendering: keys in, state and effects out.
import { describe, expect, it } from "vitest";
import type { Execution } from "../../src/shared/execution.js";
import type { Job } from "../../src/shared/job.js";
import type { Member } from "../../src/shared/member.js";
import { keysOf, type KeyPress } from "../../src/tui/keybindings.js";
import type { Action, Effect } from "../../src/tui/state/actions.js";
import { modeOf } from "../../src/tui/state/keys.js";
import { layout } from "../../src/tui/state/layout.js";
import { connMode, update } from "../../src/tui/state/reducer.js";
import { selectedIndex, visibleJobs } from "../../src/tui/state/select.js";
import { initialState, type State } from "../../src/tui/state/types.js";

const NOW = Date.parse("2025-06-01T12:00:00Z");
const at = (offsetMs: number) => new Date(NOW + offsetMs).toISOString();
const ZERO = "0001-01-01T00:00:00Z";

function job(name: string, over: Partial<Job> = {}): Job {
  return {
    id: name, name, displayname: "", timezone: "", schedule: "@every 1m", owner: "", owner_email: "",
    success_count: 0, error_count: 0, last_success: null, last_error: null, disabled: false, tags: {}, metadata: {},
    retries: 0, dependent_jobs: null, parent_job: "", processors: {}, concurrency: "allow", executor: "shell",
    executor_config: { command: "true" }, status: "", next: at(60_000), ephemeral: false, starts_at: null, expires_at: null,
    catchup: "last", catchup_window: "1h", retry_backoff: { initial: "500ms", max: "1m", multiplier: 2 }, ...over,
  };
}

function exec(jobName: string, id: string, over: Partial<Execution> = {}): Execution {
  return {
    id, job_name: jobName, started_at: at(-5000), finished_at: at(-4000), success: true, output: "ok\n",
    node_name: "n1", group: 0, attempt: 1, ...over,
  };
}

const member = (name: string, over: Partial<Member> = {}): Member => ({
  id: name, Name: name, Addr: "127.0.0.1", Port: 8946, Tags: {}, Status: 1, ProtocolMin: 1, ProtocolMax: 5, ProtocolCur: 2,
  DelegateMin: 2, DelegateMax: 5, DelegateCur: 4, statusText: "alive", role: "server", leader: false, last_seen: at(0), version: "0.1.0", ...over,
});

class Harness {
  state: State;
  effects: Effect[] = [];
  constructor(size = { columns: 80, rows: 24 }) {
    this.state = initialState({ address: "http://127.0.0.1:8080", now: NOW, ...size });
  }
  act(a: Action): this {
    const r = update(this.state, a);
    this.state = r.state;
    this.effects.push(...r.effects);
    return this;
  }
  /** Types keys as tmux send-keys would: names like "Enter", "Esc", "Tab", "Up", or text. */
  keys(...presses: string[]): this {
    const named: Record<string, KeyPress> = {
      Enter: { name: "enter", text: "" }, Esc: { name: "esc", text: "" }, Tab: { name: "tab", text: "" },
      BTab: { name: "backtab", text: "" }, Up: { name: "up", text: "" }, Down: { name: "down", text: "" },
      BSpace: { name: "backspace", text: "" }, PgDn: { name: "pagedown", text: "" }, Space: { name: " ", text: " " },
    };
    for (const p of presses) {
      const list = named[p] ? [named[p]!] : keysOf(p, {});
      for (const key of list) this.act({ type: "key", key });
    }
    return this;
  }
  load(jobs: Job[], extra: { members?: Member[]; leader?: string; running?: Execution[] } = {}): this {
    return this.act({ type: "snapshot", snapshot: { jobs, members: extra.members ?? [member("n1")], leader: extra.leader ?? "n1", info: { node: "n1" }, running: extra.running ?? [] }, now: NOW });
  }
  get names(): string[] {
    return visibleJobs(this.state).map((j) => j.name);
  }
  take(): Effect[] {
    const e = this.effects;
    this.effects = [];
    return e;
  }
}

describe("selection and scrolling", () => {
  it("selects the first job once jobs arrive, and moves with j/k, arrows, g/G", () => {
    const h = new Harness().load([job("b"), job("a"), job("c")]);
    expect(h.names).toEqual(["a", "b", "c"]);
    expect(h.state.selected).toBe("a");
    h.keys("j", "Down");
    expect(h.state.selected).toBe("c");
    h.keys("j");
    expect(h.state.selected).toBe("c");
    h.keys("k", "g");
    expect(h.state.selected).toBe("a");
    h.keys("G");
    expect(h.state.selected).toBe("c");
  });

  it("keeps 1,000 jobs in a window that follows the cursor", () => {
    const jobs = Array.from({ length: 1000 }, (_, i) => job(`job-${String(i).padStart(4, "0")}`));
    const h = new Harness().load(jobs);
    const rows = layout(h.state.size, "table").table.rows;
    expect(rows).toBeGreaterThan(3);
    h.keys("PgDn", "PgDn");
    const i = selectedIndex(h.state);
    expect(i).toBe(2 * (rows - 1));
    expect(i).toBeGreaterThanOrEqual(h.state.scroll);
    expect(i).toBeLessThan(h.state.scroll + rows);
    h.keys("G");
    expect(h.state.selected).toBe("job-0999");
    expect(h.state.scroll).toBe(1000 - rows);
  });

  it("stays on the same job when the rows re-sort under it", () => {
    const h = new Harness().load([job("a", { next: at(10_000) }), job("b", { next: at(20_000) }), job("c", { next: at(30_000) })]);
    h.keys("s"); // sort by next
    expect(h.state.sort).toEqual({ key: "next", desc: false });
    h.keys("j");
    expect(h.state.selected).toBe("b");
    h.act({ type: "events", events: [{ type: "job", op: "put", job: job("b", { next: at(90_000) }) }] });
    expect(h.names).toEqual(["a", "c", "b"]);
    expect(h.state.selected).toBe("b");
  });

  it("lands on the row where the selected job was when it is deleted", () => {
    const h = new Harness().load([job("a"), job("b"), job("c")]).keys("j");
    h.act({ type: "events", events: [{ type: "job", op: "delete", name: "b" }] });
    expect(h.state.selected).toBe("c");
  });
});

describe("filter and sort", () => {
  const jobs = [
    job("web-backup", { tags: { role: "web:1" }, status: "failed" }),
    job("db-backup", { tags: { role: "db" }, status: "success", disabled: true }),
    job("report", { metadata: { team: "ops" }, status: "success" }),
  ];

  it("filters live while typing, keeps it on Enter, clears it on Esc", () => {
    const h = new Harness().load(jobs).keys("/", "backup");
    expect(modeOf(h.state)).toBe("filter");
    expect(h.names).toEqual(["db-backup", "web-backup"]);
    h.keys("BSpace", "BSpace", "BSpace", "BSpace", "BSpace", "BSpace", "web", "Enter");
    expect(modeOf(h.state)).toBe("table");
    expect(h.state.filter).toBe("web");
    expect(h.names).toEqual(["web-backup"]);
    h.keys("/", "Esc");
    expect(h.state.filter).toBe("");
    expect(h.names).toHaveLength(3);
  });

  it("matches tags, metadata, status and state words", () => {
    const h = new Harness().load(jobs);
    const filtered = (text: string) => {
      h.keys("/", "Esc", "/", text, "Enter");
      return h.names;
    };
    expect(filtered("role=web")).toEqual(["web-backup"]);
    expect(filtered("tag:role=db")).toEqual(["db-backup"]);
    expect(filtered("team=ops")).toEqual(["report"]);
    expect(filtered("status:fail")).toEqual(["web-backup"]);
    expect(filtered("disabled")).toEqual(["db-backup"]);
    expect(filtered("success backup")).toEqual(["db-backup"]);
    expect(filtered("nothing-like-this")).toEqual([]);
  });

  it("matches running jobs", () => {
    const h = new Harness().load(jobs, { running: [exec("report", "r1", { finished_at: ZERO })] }).keys("/", "running", "Enter");
    expect(h.names).toEqual(["report"]);
  });

  it("cycles sort columns with s and reverses with S", () => {
    const h = new Harness().load([job("a", { error_count: 1 }), job("b", { error_count: 5 }), job("c", { error_count: 3 })]);
    h.keys("s", "s", "s", "s", "s");
    expect(h.state.sort).toEqual({ key: "errors", desc: true });
    expect(h.names).toEqual(["b", "c", "a"]);
    h.keys("S");
    expect(h.names).toEqual(["a", "c", "b"]);
    h.keys("s");
    expect(h.state.sort.key).toBe("name");
  });
});

describe("commands", () => {
  it("r and t ask for a run and a toggle of the selected job", () => {
    const h = new Harness().load([job("a"), job("b")]).keys("j", "r", "t");
    expect(h.take()).toEqual([{ kind: "run", job: "b" }, { kind: "toggle", job: "b" }]);
    h.act({ type: "effectDone", effect: { kind: "toggle", job: "b" }, job: job("b", { disabled: true }), now: NOW });
    expect(h.state.jobs.get("b")!.disabled).toBe(true);
    expect(h.state.flash?.text).toBe("b: disabled");
  });

  it("d asks first: y deletes, n and Esc keep", () => {
    const h = new Harness().load([job("a")]).keys("d");
    expect(modeOf(h.state)).toBe("confirm");
    h.keys("n");
    expect(modeOf(h.state)).toBe("table");
    h.keys("d", "Esc");
    expect(h.take()).toEqual([]);
    h.keys("d", "y");
    expect(h.take()).toEqual([{ kind: "delete", job: "a" }]);
    h.act({ type: "effectDone", effect: { kind: "delete", job: "a" }, now: NOW });
    expect(h.state.jobs.size).toBe(0);
  });

  it("x kills the running execution, and shows the server's error inline", () => {
    const h = new Harness().load([job("a")]);
    h.keys("x");
    expect(h.take()).toEqual([]);
    expect(h.state.flash).toMatchObject({ kind: "error", text: "nothing running to kill" });
    h.act({ type: "events", events: [{ type: "execution", execution: exec("a", "e1", { finished_at: ZERO }) }] });
    h.keys("x");
    const [kill] = h.take();
    expect(kill).toEqual({ kind: "kill", job: "a", id: "e1" });
    h.act({ type: "effectFailed", effect: kill!, error: { code: "not_found", message: "no such route" }, now: NOW });
    expect(h.state.flash).toMatchObject({ kind: "error" });
    expect(h.state.flash!.text).toContain("no such route");
  });

  it("p and c jump to the parent and through the children", () => {
    const h = new Harness().load([
      job("parent", { dependent_jobs: ["kid-a", "kid-b"] }),
      job("kid-a", { parent_job: "parent", schedule: "" }),
      job("kid-b", { parent_job: "parent", schedule: "" }),
      job("other"),
    ]);
    expect(h.names).toEqual(["kid-a", "kid-b", "other", "parent"]);
    h.keys("G", "c");
    expect(h.state.selected).toBe("kid-a");
    h.keys("c");
    expect(h.state.selected).toBe("kid-b");
    h.keys("p");
    expect(h.state.selected).toBe("parent");
    h.keys("g", "j", "j", "p");
    expect(h.state.flash?.text).toBe("other has no parent job");
  });

  it("p clears a filter that hides the parent", () => {
    const h = new Harness().load([job("parent"), job("kid", { parent_job: "parent" })]).keys("/", "kid", "Enter", "p");
    expect(h.state.selected).toBe("parent");
    expect(h.state.filter).toBe("");
  });

  it("q quits; ? opens the help and Esc closes it", () => {
    const h = new Harness().load([job("a")]).keys("?");
    expect(modeOf(h.state)).toBe("help");
    h.keys("j");
    expect(h.take()).toEqual([]);
    h.keys("Esc");
    expect(modeOf(h.state)).toBe("table");
    h.keys("q");
    expect(h.take()).toEqual([{ kind: "quit" }]);
  });
});

describe("job form", () => {
  it("a opens an empty form; typing fills fields; Enter sends the body", () => {
    const h = new Harness().load([]).keys("a");
    expect(modeOf(h.state)).toBe("form");
    h.keys("nightly", "Tab", "Tab", "@every 1h", "Down", "Down", "Down", "echo hi", "Down", "Space", "Down", "role=web, dc=eu", "Enter");
    const [save] = h.take();
    expect(save).toMatchObject({
      kind: "save",
      mode: "add",
      body: { name: "nightly", schedule: "@every 1h", executor: "shell", executor_config: { command: "echo hi", shell: "true" }, tags: { role: "web", dc: "eu" }, retries: 0, disabled: false },
    });
  });

  it("puts the server's validation error next to the field it names", () => {
    const h = new Harness().load([]).keys("a", "x", "Tab", "Tab", "bogus", "Enter");
    const [save] = h.take();
    h.act({ type: "effectFailed", effect: save!, error: { code: "invalid_argument", message: "schedule: cannot parse \"bogus\"", field: "schedule" }, now: NOW });
    expect(h.state.overlay.kind).toBe("form");
    if (h.state.overlay.kind !== "form") return;
    expect(h.state.overlay.form.errors.schedule).toBe('cannot parse "bogus"');
    expect(h.state.overlay.form.saving).toBe(false);
    // Editing the field clears its error.
    h.keys("BSpace");
    if (h.state.overlay.kind === "form") expect(h.state.overlay.form.errors.schedule).toBeUndefined();
  });

  it("checks retries and tags before asking the server", () => {
    const h = new Harness().load([]).keys("a", "x");
    for (let i = 0; i < 7; i++) h.keys("Tab");
    h.keys("novalue");
    for (let i = 0; i < 3; i++) h.keys("Tab");
    h.keys("BSpace", "two", "Enter");
    expect(h.take()).toEqual([]);
    if (h.state.overlay.kind !== "form") throw new Error("form closed");
    expect(h.state.overlay.form.errors.tags).toContain("not key=value");
    expect(h.state.overlay.form.errors.retries).toBeDefined();
  });

  it("e edits the selected job: the name is fixed and other fields are sent back", () => {
    const h = new Harness().load([job("a", { metadata: { team: "ops" }, executor_config: { command: "true", timeout: "5s" } })]).keys("e");
    if (h.state.overlay.kind !== "form") throw new Error("no form");
    expect(h.state.overlay.form.values.schedule).toBe("@every 1m");
    h.keys("BSpace", "BSpace", "5m", "Enter");
    const [save] = h.take();
    expect(save).toMatchObject({ kind: "save", mode: "edit", body: { name: "a", schedule: "@every 5m", metadata: { team: "ops" }, executor_config: { command: "true", timeout: "5s" } } });
    expect((save as { body: Record<string, unknown> }).body.success_count).toBeUndefined();
    h.act({ type: "effectDone", effect: save!, job: job("a", { schedule: "@every 5m" }), now: NOW });
    expect(h.state.overlay.kind).toBe("none");
    expect(h.state.jobs.get("a")!.schedule).toBe("@every 5m");
  });
});

describe("live data", () => {
  it("tracks running executions from events and snapshots", () => {
    const h = new Harness().load([job("a"), job("b")]);
    h.act({ type: "events", events: [{ type: "execution", execution: exec("a", "e1", { finished_at: ZERO }) }] });
    expect(h.state.running).toEqual({ a: ["e1"] });
    expect(h.state.executions.a?.map((e) => e.id)).toEqual(["e1"]);
    h.act({ type: "events", events: [{ type: "execution", execution: exec("a", "e1") }] });
    expect(h.state.running).toEqual({});
    expect(h.state.executions.a).toHaveLength(1);
  });

  it("applies leader, member and hello events", () => {
    const h = new Harness().load([], { members: [member("n1")], leader: "n1" });
    h.act({ type: "events", events: [{ type: "member", member: member("n2") }, { type: "leader", leader: "n2" }] });
    expect(h.state.members.map((m) => m.Name)).toEqual(["n1", "n2"]);
    expect(h.state.leader).toBe("n2");
    h.act({ type: "events", events: [{ type: "hello", node: "n1", leader: "" }] });
    expect(h.state.node).toBe("n1");
  });

  it("shows live, polling and offline", () => {
    const h = new Harness();
    expect(connMode(h.state)).toBe("connecting");
    h.load([]);
    expect(connMode(h.state)).toBe("polling");
    h.act({ type: "link", status: { state: "open", attempt: 0 }, now: NOW });
    expect(connMode(h.state)).toBe("live");
    h.act({ type: "link", status: { state: "down", attempt: 1, error: "HTTP 404", retryInMs: 1000 }, now: NOW });
    expect(connMode(h.state)).toBe("polling");
    expect(h.state.conn).toMatchObject({ socketError: "HTTP 404", retryAt: NOW + 1000 });
    h.act({ type: "refreshFailed", message: "connection refused", now: NOW });
    expect(connMode(h.state)).toBe("offline");
  });
});

describe("panes and the execution view", () => {
  it("Enter and Tab move between the table, the executions and the output", () => {
    const h = new Harness().load([job("a")]);
    h.act({ type: "executions", job: "a", items: [exec("a", "e2", { started_at: at(-1000), finished_at: ZERO }), exec("a", "e1")] });
    h.keys("Enter");
    expect(modeOf(h.state)).toBe("detail");
    h.keys("j", "Enter");
    expect(modeOf(h.state)).toBe("execution");
    expect(h.state.execView).toMatchObject({ job: "a", id: "e1", follow: true });
    h.keys("Esc");
    expect(modeOf(h.state)).toBe("detail");
    h.keys("Tab");
    expect(modeOf(h.state)).toBe("table");
  });

  it("follows output as it grows; scrolling up stops following, G resumes", () => {
    const h = new Harness().load([job("a")]);
    h.act({ type: "executions", job: "a", items: [exec("a", "e1", { finished_at: ZERO, output: "" })] });
    h.keys("Tab", "Enter");
    const text = Array.from({ length: 100 }, (_, i) => `line ${i}`).join("\n");
    h.act({ type: "output", job: "a", id: "e1", data: text, replace: false });
    expect(h.state.execView!.output).toBe(text);
    h.keys("k");
    expect(h.state.execView!.follow).toBe(false);
    h.keys("G");
    expect(h.state.execView!.follow).toBe(true);
    // Output of some other execution is not mixed in.
    h.act({ type: "output", job: "a", id: "other", data: "x", replace: false });
    expect(h.state.execView!.output).toBe(text);
  });

  it("2 shows members and 1 goes back to jobs", () => {
    const h = new Harness().load([job("a")], { members: [member("n1"), member("n2")] }).keys("2");
    expect(modeOf(h.state)).toBe("members");
    h.keys("j");
    expect(h.state.memberCursor).toBe(1);
    h.keys("1");
    expect(modeOf(h.state)).toBe("table");
  });
});

describe("keys", () => {
  it("splits what one read returned into single keys", () => {
    expect(keysOf("jj", {}).map((k) => k.name)).toEqual(["j", "j"]);
    expect(keysOf("", { upArrow: true }).map((k) => k.name)).toEqual(["up"]);
    expect(keysOf("", { tab: true, shift: true }).map((k) => k.name)).toEqual(["backtab"]);
    expect(keysOf("c", { ctrl: true }).map((k) => k.name)).toEqual(["ctrl+c"]);
    // tmux send-keys "web" Enter can arrive as one read.
    expect(keysOf("web\r", {}).map((k) => k.name)).toEqual(["w", "e", "b", "enter"]);
    expect(keysOf("a\x7f\t\x03", {}).map((k) => k.name)).toEqual(["a", "backspace", "tab", "ctrl+c"]);
  });

  it("types letters into text fields instead of acting on them", () => {
    const h = new Harness().load([job("a")]).keys("/", "q", "r", "d");
    expect(h.take()).toEqual([]);
    expect(h.state.filterDraft).toBe("qrd");
  });
});

describe("layout", () => {
  it("fits 80x24 and adapts to a resize", () => {
    const small = layout({ columns: 80, rows: 24 }, "table");
    expect(small.total).toBe(24);
    expect(small.table.height + small.detail.height).toBe(small.body);
    expect(small.side).toBe(false);
    const wide = layout({ columns: 200, rows: 50 }, "table");
    expect(wide.side).toBe(true);
    const tiny = layout({ columns: 60, rows: 12 }, "detail");
    expect(tiny.table.height).toBe(0);
    const h = new Harness().load(Array.from({ length: 50 }, (_, i) => job(`j${String(i).padStart(2, "0")}`))).keys("G");
    h.act({ type: "resize", columns: 80, rows: 14 });
    const rows = layout(h.state.size, "table").table.rows;
    expect(selectedIndex(h.state)).toBeLessThan(h.state.scroll + rows);
    expect(h.state.scroll).toBe(50 - rows);
  });
});
