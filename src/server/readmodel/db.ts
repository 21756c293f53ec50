// The executions read model: a SQLite copy of DKRON_EXECUTIONS, indexed for
// the API's queries. A cache: delete the file and it is rebuilt from the stream.
import Database from "better-sqlite3";
import type { ExecutionRecord } from "../../shared/execution.js";

const SCHEMA_VERSION = 2;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS executions (
  id TEXT PRIMARY KEY,
  job_name TEXT NOT NULL,
  group_ms INTEGER NOT NULL,
  attempt INTEGER NOT NULL,
  node_name TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  finished_at INTEGER,
  success INTEGER NOT NULL,
  exit_code INTEGER,
  output TEXT NOT NULL,
  output_truncated INTEGER NOT NULL,
  trigger TEXT NOT NULL,
  reason TEXT,
  incarnation TEXT
);
CREATE INDEX IF NOT EXISTS executions_job ON executions (job_name, started_at DESC);
CREATE INDEX IF NOT EXISTS executions_started ON executions (started_at DESC);
CREATE INDEX IF NOT EXISTS executions_running ON executions (finished_at) WHERE finished_at IS NULL;
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
`;

export interface ExecutionRow {
  id: string;
  job_name: string;
  group_ms: number;
  attempt: number;
  node_name: string;
  started_at: number;
  finished_at: number | null;
  success: number;
  exit_code: number | null;
  output: string;
  output_truncated: number;
  trigger: string;
  reason: string | null;
  incarnation: string | null;
}

export const rowToRecord = (r: ExecutionRow): ExecutionRecord => ({
  state: r.finished_at === null ? "started" : "finished",
  id: r.id,
  job_name: r.job_name,
  group_ms: r.group_ms,
  attempt: r.attempt,
  node_name: r.node_name,
  started_at: r.started_at,
  finished_at: r.finished_at,
  success: r.success === 1,
  exit_code: r.exit_code,
  output: r.output,
  output_truncated: r.output_truncated === 1,
  trigger: r.trigger as ExecutionRecord["trigger"],
  ...(r.reason ? { reason: r.reason } : {}),
  ...(r.incarnation ? { incarnation: r.incarnation } : {}),
});

export interface ExecutionQuery {
  job?: string;
  /** Only executions of this incarnation of the job (plus records that carry none). */
  incarnation?: string;
  /** running | success | failed */
  status?: string;
  node?: string;
  sort: "started_at" | "finished_at";
  order: "ASC" | "DESC";
  start: number;
  end?: number;
  /** Keep only the last N bytes of output (Dkron's output_size_limit). */
  outputLimit?: number;
}

export class ReadModelDb {
  readonly db: Database.Database;
  private readonly upsertStmt: Database.Statement;
  private readonly pruneStmt: Database.Statement;
  private readonly countJobStmt: Database.Statement;

  constructor(path: string, private readonly keepPerJob: number) {
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    // A cache of the stream: when its layout changes, drop it and rebuild.
    if (this.db.pragma("user_version", { simple: true }) !== SCHEMA_VERSION) {
      this.db.exec("DROP TABLE IF EXISTS executions; DROP TABLE IF EXISTS meta;");
      this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
    }
    this.db.exec(SCHEMA);
    // A finished record never goes back to running; a late `started` must not undo a `finished`.
    this.upsertStmt = this.db.prepare(`
      INSERT INTO executions (id, job_name, group_ms, attempt, node_name, started_at, finished_at, success, exit_code, output, output_truncated, trigger, reason, incarnation)
      VALUES (@id, @job_name, @group_ms, @attempt, @node_name, @started_at, @finished_at, @success, @exit_code, @output, @output_truncated, @trigger, @reason, @incarnation)
      ON CONFLICT(id) DO UPDATE SET started_at = excluded.started_at, finished_at = excluded.finished_at, success = excluded.success, exit_code = excluded.exit_code,
        output = excluded.output, output_truncated = excluded.output_truncated, reason = excluded.reason
      WHERE excluded.finished_at IS NOT NULL AND executions.finished_at IS NULL`);
    this.pruneStmt = this.db.prepare(`DELETE FROM executions WHERE job_name = ? AND finished_at IS NOT NULL AND id NOT IN
      (SELECT id FROM executions WHERE job_name = ? ORDER BY started_at DESC LIMIT ?)`);
    this.countJobStmt = this.db.prepare("SELECT count(*) AS n FROM executions WHERE job_name = ?");
  }

  lastSeq(): number {
    const r = this.db.prepare("SELECT v FROM meta WHERE k = 'last_seq'").get() as { v: string } | undefined;
    return r ? Number(r.v) : 0;
  }

  /** Applies a batch of stream records and the position they reach, atomically. */
  applyBatch(records: ExecutionRecord[], lastSeq: number): void {
    const touched = new Set<string>();
    this.db.transaction(() => {
      for (const r of records) {
        this.upsertStmt.run({
          id: r.id,
          job_name: r.job_name,
          group_ms: r.group_ms,
          attempt: r.attempt,
          node_name: r.node_name,
          started_at: r.started_at,
          finished_at: r.finished_at,
          success: r.success ? 1 : 0,
          exit_code: r.exit_code,
          output: r.output,
          output_truncated: r.output_truncated ? 1 : 0,
          trigger: r.trigger,
          reason: r.reason ?? null,
          incarnation: r.incarnation ?? null,
        });
        if (r.state === "finished") touched.add(r.job_name);
      }
      for (const job of touched) {
        const { n } = this.countJobStmt.get(job) as { n: number };
        if (n > this.keepPerJob) this.pruneStmt.run(job, job, this.keepPerJob);
      }
      this.db.prepare("INSERT OR REPLACE INTO meta (k, v) VALUES ('last_seq', ?)").run(String(lastSeq));
    })();
  }

  deleteJob(job: string): number {
    return this.db.prepare("DELETE FROM executions WHERE job_name = ?").run(job).changes;
  }

  /** Drops executions left by earlier, deleted jobs of this name. */
  deleteOtherIncarnations(job: string, incarnation: string): number {
    return this.db.prepare("DELETE FROM executions WHERE job_name = ? AND incarnation IS NOT NULL AND incarnation <> ?")
      .run(job, incarnation).changes;
  }

  reset(): void {
    this.db.exec("DELETE FROM executions; DELETE FROM meta;");
  }

  byId(id: string): ExecutionRecord | undefined {
    const r = this.db.prepare("SELECT * FROM executions WHERE id = ?").get(id) as ExecutionRow | undefined;
    return r && rowToRecord(r);
  }

  get(job: string, id: string): ExecutionRecord | undefined {
    const r = this.db.prepare("SELECT * FROM executions WHERE job_name = ? AND id = ?").get(job, id) as ExecutionRow | undefined;
    return r && rowToRecord(r);
  }

  query(q: ExecutionQuery): { items: ExecutionRecord[]; total: number } {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.job !== undefined) (where.push("job_name = ?"), args.push(q.job));
    if (q.incarnation) (where.push("(incarnation IS NULL OR incarnation = ?)"), args.push(q.incarnation));
    if (q.node !== undefined) (where.push("node_name = ?"), args.push(q.node));
    if (q.status === "running") where.push("finished_at IS NULL");
    else if (q.status === "success") where.push("finished_at IS NOT NULL AND success = 1");
    else if (q.status === "failed") where.push("finished_at IS NOT NULL AND success = 0");
    const w = where.length ? `WHERE ${where.join(" AND ")}` : "";
    const { n } = this.db.prepare(`SELECT count(*) AS n FROM executions ${w}`).get(...args) as { n: number };
    const limit = q.end === undefined ? -1 : Math.max(0, q.end - q.start);
    const keep = Math.max(0, Math.floor(q.outputLimit ?? 0));
    const out = q.outputLimit === undefined ? "output" : `${keep === 0 ? "''" : `substr(output, -${keep})`} AS output,
      (output_truncated OR length(output) > ${Math.floor(q.outputLimit)}) AS output_truncated`;
    const cols = q.outputLimit === undefined ? "*" : `id, job_name, group_ms, attempt, node_name, started_at, finished_at, success, exit_code, trigger, reason, incarnation, ${out}`;
    // Running executions (no finish time) sort as the newest when sorting by finish.
    const sortCol = q.sort === "finished_at" ? "coalesce(finished_at, 9e15)" : "started_at";
    const rows = this.db.prepare(`SELECT ${cols} FROM executions ${w} ORDER BY ${sortCol} ${q.order}, id ${q.order} LIMIT ? OFFSET ?`)
      .all(...args, limit, q.start) as ExecutionRow[];
    return { items: rows.map(rowToRecord), total: n };
  }

  /** Nodes with a started-but-unfinished execution of the job. */
  runningNodes(job: string): string[] {
    return (this.db.prepare("SELECT DISTINCT node_name FROM executions WHERE job_name = ? AND finished_at IS NULL").all(job) as
      { node_name: string }[]).map((r) => r.node_name);
  }

  running(): ExecutionRecord[] {
    return (this.db.prepare("SELECT * FROM executions WHERE finished_at IS NULL ORDER BY started_at").all() as ExecutionRow[]).map(rowToRecord);
  }

  close(): void {
    this.db.close();
  }
}
