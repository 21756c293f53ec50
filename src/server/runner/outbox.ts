// Finished-execution records not yet acknowledged by JetStream, kept in
// SQLite so a result survives a NATS outage or a crash of this node. Records
// are published with their Nats-Msg-Id, so a replay after a crash that came
// between the ack and the delete is a harmless duplicate.
import Database from "better-sqlite3";
import type { JetStreamClient } from "nats";
import type { Logger } from "../logger.js";

export interface OutboxRecord {
  msgId: string;
  subject: string;
  data: Uint8Array;
}

export class Outbox {
  private readonly db: Database.Database;
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private dirty = false;
  private readonly insert: Database.Statement;
  private readonly remove: Database.Statement;
  private readonly select: Database.Statement;

  constructor(
    path: string,
    private readonly js: JetStreamClient,
    private readonly log: Logger,
    private readonly retryMs = 1_000,
  ) {
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    this.db.exec("CREATE TABLE IF NOT EXISTS outbox (msg_id TEXT PRIMARY KEY, subject TEXT NOT NULL, data BLOB NOT NULL, added_at INTEGER NOT NULL)");
    this.insert = this.db.prepare("INSERT OR REPLACE INTO outbox (msg_id, subject, data, added_at) VALUES (?, ?, ?, ?)");
    this.remove = this.db.prepare("DELETE FROM outbox WHERE msg_id = ?");
    this.select = this.db.prepare("SELECT msg_id, subject, data FROM outbox ORDER BY added_at LIMIT 500");
  }

  get pending(): number {
    return (this.db.prepare("SELECT count(*) AS n FROM outbox").get() as { n: number }).n;
  }

  /** Stores the record, then tries to publish it; resolves once it is safe on disk. */
  add(r: OutboxRecord): void {
    this.insert.run(r.msgId, r.subject, Buffer.from(r.data), Date.now());
    void this.flush();
  }

  /** Publishes everything pending, oldest first; on failure retries later. */
  flush(): Promise<void> {
    this.dirty = true;
    this.flushing ??= this.drain().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async drain(): Promise<void> {
    while (this.dirty && !this.stopped) {
      this.dirty = false;
      const rows = this.select.all() as { msg_id: string; subject: string; data: Buffer }[];
      if (rows.length === 500) this.dirty = true;
      for (const row of rows) {
        if (this.stopped) return;
        try {
          await this.js.publish(row.subject, row.data, { msgID: row.msg_id, timeout: 10_000 });
          if (!this.stopped) this.remove.run(row.msg_id);
        } catch (err) {
          this.log.warn({ err: (err as Error).message }, "publishing execution result failed; will retry");
          clearTimeout(this.timer);
          this.timer = setTimeout(() => void this.flush(), this.retryMs);
          return;
        }
      }
    }
  }

  close(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.db.close();
  }
}
