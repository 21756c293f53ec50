// Dkron's `syslog` processor: the output goes to the local syslog (facility cron, severity info,
// tag "dkron"), framed by BEGIN/END lines that name the job and execution, one message a line;
// the stored output becomes "Output in syslog" unless `forward` is "true". When no syslog takes
// it, the output is kept and the reason appended (Dkron replaced it regardless).
import type { ExecutionRecord } from "../../shared/execution.js";
import { describeTarget, DEFAULT_SYSLOG_TARGETS, sendToSyslog, type SyslogTarget } from "./syslog-send.js";
import { storedAs, withNote, type Processor } from "./types.js";

/** Longest line sent as one message, in characters (syslog daemons cut at 1–8 KB). */
const MAX_LINE = 1024;

export function syslogMessages(jobName: string, ex: ExecutionRecord): string[] {
  const who = `job=${jobName} execution=${ex.id}`;
  const lines: string[] = [];
  for (const line of ex.output.split(/\r?\n/)) {
    for (let i = 0; i < line.length; i += MAX_LINE) lines.push(`${who}: ${line.slice(i, i + MAX_LINE)}`);
  }
  return [`${who}: BEGIN OUTPUT success=${ex.success}`, ...lines, `${who}: END OUTPUT`];
}

export interface SyslogOptions {
  /** Tried in order; the default is /dev/log, /var/run/syslog, then UDP 127.0.0.1:514. */
  targets?: readonly SyslogTarget[];
  /** logger(1), used for unix datagram sockets. */
  loggerBin?: string;
}

export function syslogProcessor(opts: SyslogOptions = {}): Processor {
  return {
    async process(ctx) {
      const fields = { job: ctx.job.name, execution: ctx.execution.id };
      try {
        const to = await sendToSyslog(syslogMessages(ctx.job.name, ctx.execution), opts.targets ?? DEFAULT_SYSLOG_TARGETS, opts.loggerBin);
        ctx.log.debug({ ...fields, target: describeTarget(to) }, "syslog processor: output sent");
        return storedAs(ctx, "Output in syslog");
      } catch (err) {
        ctx.log.warn({ ...fields, err: (err as Error).message }, "syslog processor: output not sent");
        return withNote(ctx.execution, `syslog processor: output kept, ${(err as Error).message}`);
      }
    },
  };
}
