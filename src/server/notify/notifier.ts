// Dkron's notifications (dkron/notifier.go): after the final attempt of an execution, an email to
// the job's owner_email and a POST to the webhook; before it starts, a POST to the pre-webhook.
// Nothing here throws: a failed notification is logged and the execution goes on.
import os from "node:os";
import nodemailer from "nodemailer";
import { request } from "undici";
import type { ExecutionRecord } from "../../shared/execution.js";
import type { JobSpec } from "../../shared/job.js";
import type { Logger } from "../logger.js";
import { splitHeader } from "../executors/http.js";
import { renderTemplate, templateData } from "./template.js";

export interface NotifyConfig {
  /** This node's name: the templates' `.ReportingNode`. Defaults to the host name. */
  nodeName?: string;
  webhookEndpoint?: string;
  webhookPayload?: string;
  /** "Name: value" lines; unlike Dkron, a value containing ':' is kept whole. */
  webhookHeaders: string[];
  preWebhookEndpoint?: string;
  preWebhookPayload?: string;
  preWebhookHeaders: string[];
  mailHost?: string;
  mailPort?: number;
  mailUsername?: string;
  mailPassword?: string;
  /** Defaults to dkron@<host name> (Dkron could not send without one). */
  mailFrom?: string;
  mailPayload?: string;
  /** Put right before "Success"/"Failed", without a space, as Dkron does. */
  mailSubjectPrefix: string;
}

export const DEFAULT_MAIL_SUBJECT_PREFIX = "[Dkron]";

/** How long one webhook call or one mail delivery may take. */
const NOTIFY_TIMEOUT_MS = 30_000;
/** How much of a webhook's response is read, for the debug log. */
const RESPONSE_LOG_LIMIT = 4096;

export function mailSubject(prefix: string, job: string, success: boolean): string {
  return `${prefix}${success ? "Success" : "Failed"} ${job} execution report`;
}

/** Webhook headers from "Name: value" lines; malformed lines are skipped (and reported). */
export function webhookHeaders(lines: readonly string[]): { headers: Record<string, string>; bad: string[] } {
  const headers: Record<string, string> = {};
  const bad: string[] = [];
  for (const line of lines) {
    if (!line.trim()) continue;
    const kv = splitHeader(line);
    if (kv) headers[kv[0].toLowerCase()] = kv[1];
    else bad.push(line);
  }
  return { headers, bad };
}

export class Notifier {
  private readonly cfg: NotifyConfig;
  private readonly log: Logger;

  constructor(cfg: Partial<NotifyConfig>, log: Logger) {
    // `?? default` rather than spreading defaults: an explicit undefined must not win.
    this.cfg = {
      ...cfg,
      webhookHeaders: cfg.webhookHeaders ?? [],
      preWebhookHeaders: cfg.preWebhookHeaders ?? [],
      mailSubjectPrefix: cfg.mailSubjectPrefix ?? DEFAULT_MAIL_SUBJECT_PREFIX,
    };
    this.log = log;
  }

  private get reportingNode(): string {
    return this.cfg.nodeName || os.hostname();
  }

  /** After the final attempt of one node's execution: email and webhook, as configured. */
  async notifyFinished(job: JobSpec, execution: ExecutionRecord, group: readonly ExecutionRecord[]): Promise<void> {
    const c = this.cfg;
    const sends: Promise<void>[] = [];
    if (c.mailHost && c.mailPort && job.owner_email) sends.push(this.guard("mail", execution, () => this.sendMail(job, execution, group)));
    if (c.webhookEndpoint && c.webhookPayload) {
      const body = renderTemplate(c.webhookPayload, templateData(execution, group, this.reportingNode));
      sends.push(this.guard("webhook", execution, () => this.post("webhook", c.webhookEndpoint!, body, c.webhookHeaders)));
    }
    await Promise.all(sends);
  }

  /** Before an execution starts: the pre-webhook, as configured. */
  async notifyStarting(job: JobSpec, execution: ExecutionRecord, group: readonly ExecutionRecord[] = []): Promise<void> {
    const c = this.cfg;
    if (!c.preWebhookEndpoint || !c.preWebhookPayload) return;
    const body = renderTemplate(c.preWebhookPayload, templateData(execution, group, this.reportingNode));
    await this.guard("pre-webhook", execution, () => this.post("pre-webhook", c.preWebhookEndpoint!, body, c.preWebhookHeaders));
  }

  private async guard(what: string, ex: ExecutionRecord, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.log.warn({ job: ex.job_name, execution: ex.id, err: (err as Error).message }, `notifier: ${what} failed`);
    }
  }

  private async post(what: string, endpoint: string, body: string, lines: readonly string[]): Promise<void> {
    const { headers, bad } = webhookHeaders(lines);
    if (bad.length) this.log.warn({ headers: bad }, `notifier: ${what} headers skipped (expected "Name: value")`);
    const res = await request(endpoint, { method: "POST", headers, body, signal: AbortSignal.timeout(NOTIFY_TIMEOUT_MS) });
    let text = "";
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      if (text.length < RESPONSE_LOG_LIMIT) text += chunk.toString("utf8");
    }
    const fields = { endpoint, status: res.statusCode, body: text.slice(0, RESPONSE_LOG_LIMIT) };
    // Dkron ignores the status; a non-2xx is worth a warning all the same.
    if (res.statusCode >= 300) this.log.warn(fields, `notifier: ${what} answered ${res.statusCode}`);
    else this.log.debug(fields, `notifier: ${what} sent`);
  }

  private async sendMail(job: JobSpec, ex: ExecutionRecord, group: readonly ExecutionRecord[]): Promise<void> {
    const c = this.cfg;
    const transport = nodemailer.createTransport({
      host: c.mailHost,
      port: c.mailPort,
      // 465 is implicit TLS; elsewhere STARTTLS is used when the server offers it.
      secure: c.mailPort === 465,
      ...(c.mailUsername && c.mailPassword ? { auth: { user: c.mailUsername, pass: c.mailPassword } } : {}),
      connectionTimeout: NOTIFY_TIMEOUT_MS,
      greetingTimeout: NOTIFY_TIMEOUT_MS,
      socketTimeout: NOTIFY_TIMEOUT_MS,
    });
    try {
      const text = c.mailPayload ? renderTemplate(c.mailPayload, templateData(ex, group, this.reportingNode)) : ex.output;
      const info = await transport.sendMail({
        from: c.mailFrom || `dkron@${os.hostname()}`,
        to: job.owner_email,
        subject: mailSubject(c.mailSubjectPrefix, ex.job_name, ex.success),
        text,
      });
      this.log.debug({ job: job.name, execution: ex.id, to: job.owner_email, response: info.response }, "notifier: mail sent");
    } finally {
      transport.close();
    }
  }
}
