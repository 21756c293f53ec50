// Notifications (src/server/notify) against a real HTTP server and a real SMTP server, both on
// port 0: webhook and pre-webhook POSTs (headers, rendered payloads, when they are not sent), the
// execution report email (subject, recipients, body, template, auth), failures that only log,
// and the template rendering itself.
import http from "node:http";
import type { AddressInfo } from "node:net";
import net from "node:net";
import pino from "pino";
import { SMTPServer, type SMTPServerOptions } from "smtp-server";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/server/logger.js";
import { Notifier, renderTemplate, report, templateData, type NotifyConfig } from "../../src/server/notify/index.js";
import type { ExecutionRecord } from "../../src/shared/execution.js";
import { parseJobInput, type JobSpec } from "../../src/shared/job.js";

const job = (owner_email = "owner@example.com"): JobSpec => parseJobInput({ name: "nightly", schedule: "@daily", owner_email });

const T0 = Date.UTC(2024, 0, 2, 3, 4, 5, 678);
const execution = (over: Partial<ExecutionRecord> = {}): ExecutionRecord => ({
  state: "finished",
  id: `${T0 * 1_000_000}-node-a`,
  job_name: "nightly",
  group_ms: T0,
  attempt: 1,
  node_name: "node-a",
  started_at: T0,
  finished_at: T0 + 1500,
  success: true,
  exit_code: 0,
  output: "all good\n",
  output_truncated: false,
  trigger: "schedule",
  ...over,
});

interface Posted {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

interface Mail {
  from: string;
  to: string[];
  user?: string;
  headers: Record<string, string>;
  body: string;
}

/** Splits a raw RFC 5322 message; the body is decoded if quoted-printable. */
function parseMail(raw: string): Pick<Mail, "headers" | "body"> {
  const [head, ...rest] = raw.split("\r\n\r\n");
  const headers: Record<string, string> = {};
  for (const line of head!.replace(/\r\n[ \t]+/g, " ").split("\r\n")) {
    const i = line.indexOf(":");
    headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  let body = rest.join("\r\n\r\n");
  if (/quoted-printable/i.test(headers["content-transfer-encoding"] ?? "")) {
    body = Buffer.from(body.replace(/=\r\n/g, "").replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), "latin1").toString("utf8");
  }
  return { headers, body: body.replace(/\r\n/g, "\n") };
}

async function smtpServer(opts: Partial<SMTPServerOptions> = {}) {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    ...opts,
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          ...(session.user ? { user: String(session.user) } : {}),
          ...parseMail(Buffer.concat(chunks).toString("utf8")),
        });
        cb();
      });
    },
  });
  const port = await new Promise<number>((resolve) => {
    const s = server.listen(0, "127.0.0.1", () => resolve((s.address() as AddressInfo).port));
  });
  return { port, mails, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** A port nothing listens on (bound, read, released). */
async function deadPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  return { log: pino({ level: "debug" }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) }), lines };
}

const base: NotifyConfig = { nodeName: "leader-1", webhookHeaders: [], preWebhookHeaders: [], mailSubjectPrefix: "[Dkron]" };

describe("webhooks", () => {
  let server: http.Server;
  let url: string;
  const posted: Posted[] = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        posted.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() });
        res.writeHead(req.url === "/broken" ? 500 : 200).end("thanks");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  afterEach(() => void posted.splice(0));

  it("POSTs the rendered payload with the configured headers after an execution", async () => {
    const n = new Notifier(
      {
        ...base,
        webhookEndpoint: `${url}/hook?x=1`,
        webhookPayload: '{"job":"{{.JobName}}","ok":{{ .Success }},"node":"{{.NodeName}}","by":"{{.ReportingNode}}","start":"{{.StartTime}}","end":"{{.FinishedAt}}","out":"{{.Output}}"}',
        webhookHeaders: ["Content-Type: application/json", "X-Callback: https://cb.example:8443/a?b=c", "Host: hooks.example", "Authorization: Bearer a:b:c"],
      },
      silentLogger(),
    );
    // Go's text/template does no escaping: a payload is valid JSON only if the output is.
    await n.notifyFinished(job(), execution({ output: "all good" }), [execution()]);
    expect(posted).toHaveLength(1);
    const p = posted[0]!;
    expect(p.method).toBe("POST");
    expect(p.url).toBe("/hook?x=1");
    expect(p.headers["content-type"]).toBe("application/json");
    // Dkron would have cut these at the second ':'.
    expect(p.headers["x-callback"]).toBe("https://cb.example:8443/a?b=c");
    expect(p.headers.authorization).toBe("Bearer a:b:c");
    expect(p.headers.host).toBe("hooks.example");
    expect(JSON.parse(p.body)).toEqual({
      job: "nightly",
      ok: true,
      node: "node-a",
      by: "leader-1",
      start: "2024-01-02T03:04:05.678Z",
      end: "2024-01-02T03:04:07.178Z",
      out: "all good",
    });
  });

  it("is not sent without a payload or without an endpoint", async () => {
    await new Notifier({ ...base, webhookEndpoint: `${url}/hook` }, silentLogger()).notifyFinished(job(), execution(), []);
    await new Notifier({ ...base, webhookPayload: "x" }, silentLogger()).notifyFinished(job(), execution(), []);
    expect(posted).toEqual([]);
  });

  it("the pre-webhook is POSTed when an execution starts, and only it", async () => {
    const n = new Notifier(
      {
        ...base,
        preWebhookEndpoint: `${url}/pre`,
        preWebhookPayload: "starting {{.JobName}} on {{.NodeName}} success={{.Success}} {{.Unknown}}",
        preWebhookHeaders: ["X-Stage: pre"],
        webhookEndpoint: `${url}/post`,
        webhookPayload: "done",
      },
      silentLogger(),
    );
    const started = execution({ state: "started", finished_at: null, success: false, output: "" });
    await n.notifyStarting(job(), started);
    expect(posted).toHaveLength(1);
    expect(posted[0]).toMatchObject({ method: "POST", url: "/pre", body: "starting nightly on node-a success=false {{.Unknown}}" });
    expect(posted[0]!.headers["x-stage"]).toBe("pre");
  });

  it("failures only log: a refused endpoint, an error status, malformed headers", async () => {
    const { log, lines } = capturingLogger();
    const dead = `http://127.0.0.1:${await deadPort()}/hook`;
    await expect(new Notifier({ ...base, webhookEndpoint: dead, webhookPayload: "x" }, log).notifyFinished(job(), execution(), [])).resolves.toBeUndefined();
    expect(lines).toContainEqual(expect.objectContaining({ level: 40, msg: "notifier: webhook failed", err: expect.stringMatching(/ECONNREFUSED/) }));
    await new Notifier({ ...base, webhookEndpoint: `${url}/broken`, webhookPayload: "x", webhookHeaders: ["no colon here"] }, log).notifyFinished(job(), execution(), []);
    expect(posted).toHaveLength(1);
    expect(lines).toContainEqual(expect.objectContaining({ level: 40, msg: "notifier: webhook answered 500", body: "thanks" }));
    expect(lines).toContainEqual(expect.objectContaining({ level: 40, headers: ["no colon here"] }));
  });
});

describe("email", () => {
  let smtp: Awaited<ReturnType<typeof smtpServer>>;
  beforeAll(async () => {
    smtp = await smtpServer();
  });
  afterAll(() => smtp.close());
  afterEach(() => void smtp.mails.splice(0));
  const mailCfg = (): NotifyConfig => ({ ...base, mailHost: "127.0.0.1", mailPort: smtp.port, mailFrom: "dkron@example.com" });

  it("sends the execution report to owner_email: Dkron's subject, the raw output as body", async () => {
    await new Notifier(mailCfg(), silentLogger()).notifyFinished(job(), execution({ output: "line 1\nline 2\n" }), []);
    expect(smtp.mails).toHaveLength(1);
    const m = smtp.mails[0]!;
    expect(m.from).toBe("dkron@example.com");
    expect(m.to).toEqual(["owner@example.com"]);
    expect(m.headers.subject).toBe("[Dkron]Success nightly execution report");
    expect(m.headers.to).toBe("owner@example.com");
    expect(m.headers["content-type"]).toMatch(/^text\/plain/);
    expect(m.body).toBe("line 1\nline 2\n");
  });

  it("a failed execution says Failed; the mail payload template and the prefix are used", async () => {
    const cfg = { ...mailCfg(), mailSubjectPrefix: "[prod] ", mailPayload: "{{.JobName}} on {{.NodeName}}: {{.Success}}\n{{.Report}}" };
    await new Notifier(cfg, silentLogger()).notifyFinished(job("a@example.com, b@example.com"), execution({ success: false, output: "boom" }), [
      execution({ success: false, output: "boom" }),
    ]);
    const m = smtp.mails[0]!;
    expect(m.headers.subject).toBe("[prod] Failed nightly execution report");
    expect(m.to).toEqual(["a@example.com", "b@example.com"]);
    expect(m.body).toBe(
      "nightly on node-a: false\n" +
        "Executed: nightly\nReporting node: leader-1\nStart time: 2024-01-02T03:04:05.678Z\nEnd time: 2024-01-02T03:04:07.178Z\n" +
        `Success: false\nNode: node-a\nOutput: boom\nExecution group: ${T0}000000\n` +
        "\t[Node]: node-a [Start]: 2024-01-02T03:04:05.678Z [End]: 2024-01-02T03:04:07.178Z [Success]: false\n",
    );
  });

  it("the subject prefix defaults to [Dkron] when not given", async () => {
    const { mailSubjectPrefix: _omit, ...cfg } = mailCfg();
    await new Notifier({ ...cfg, webhookHeaders: undefined as unknown as string[] }, silentLogger()).notifyFinished(job(), execution({ success: false }), []);
    expect(smtp.mails[0]!.headers.subject).toBe("[Dkron]Failed nightly execution report");
  });

  it("is not sent without owner_email, mail host or mail port", async () => {
    await new Notifier(mailCfg(), silentLogger()).notifyFinished(job(""), execution(), []);
    await new Notifier({ ...mailCfg(), mailHost: "" }, silentLogger()).notifyFinished(job(), execution(), []);
    const { mailPort: _omit, ...noPort } = mailCfg();
    await new Notifier(noPort, silentLogger()).notifyFinished(job(), execution(), []);
    expect(smtp.mails).toEqual([]);
  });

  it("email and webhook are both sent when both are configured", async () => {
    const hits: string[] = [];
    const server = http.createServer((req, res) => req.on("data", () => undefined).on("end", () => (hits.push(req.url!), res.end())));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const hook = `http://127.0.0.1:${(server.address() as AddressInfo).port}/both`;
      await new Notifier({ ...mailCfg(), webhookEndpoint: hook, webhookPayload: "{{.JobName}}" }, silentLogger()).notifyFinished(job(), execution(), []);
      expect(hits).toEqual(["/both"]);
      expect(smtp.mails).toHaveLength(1);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("authenticates with mail username and password", async () => {
    const auth = await smtpServer({
      authOptional: false,
      allowInsecureAuth: true,
      onAuth(a, _session, cb) {
        if (a.username === "dk" && a.password === "pw:1") cb(null, { user: a.username });
        else cb(new Error("bad credentials"));
      },
    });
    try {
      const cfg = { ...mailCfg(), mailPort: auth.port, mailUsername: "dk", mailPassword: "pw:1" };
      await new Notifier(cfg, silentLogger()).notifyFinished(job(), execution(), []);
      expect(auth.mails).toHaveLength(1);
      expect(auth.mails[0]!.user).toBe("dk");
      const { log, lines } = capturingLogger();
      await new Notifier({ ...cfg, mailPassword: "wrong" }, log).notifyFinished(job(), execution(), []);
      expect(auth.mails).toHaveLength(1);
      expect(lines).toContainEqual(expect.objectContaining({ level: 40, msg: "notifier: mail failed" }));
    } finally {
      await auth.close();
    }
  });

  it("an unreachable mail server only logs", async () => {
    const { log, lines } = capturingLogger();
    const cfg = { ...mailCfg(), mailPort: await deadPort() };
    await expect(new Notifier(cfg, log).notifyFinished(job(), execution(), [])).resolves.toBeUndefined();
    expect(lines).toContainEqual(expect.objectContaining({ level: 40, msg: "notifier: mail failed", err: expect.stringMatching(/ECONNREFUSED/) }));
  });
});

describe("templates", () => {
  const data = templateData(execution(), [], "leader-1");

  it("substitutes every Dkron field, with or without spaces", () => {
    expect(renderTemplate("{{.JobName}}|{{ .ReportingNode }}|{{.StartTime}}|{{.FinishedAt}}|{{.Success}}|{{.NodeName}}|{{.Output}}", data)).toBe(
      "nightly|leader-1|2024-01-02T03:04:05.678Z|2024-01-02T03:04:07.178Z|true|node-a|all good\n",
    );
    expect(renderTemplate("{{.Report}}", data)).toBe(report(execution(), [], "leader-1"));
  });

  it("honours the trim markers and leaves unknown fields and other actions as they are", () => {
    expect(renderTemplate("a  {{- .JobName -}}  \n b", data)).toBe("anightlyb");
    expect(renderTemplate("{{.Nope}} {{ if .Success }}x{{end}} {{.JobName}}", data)).toBe("{{.Nope}} {{ if .Success }}x{{end}} nightly");
    expect(renderTemplate("no actions", data)).toBe("no actions");
  });

  it("json (our addition) writes a value as a quoted JSON string", () => {
    const tricky = templateData(execution({ output: 'say "hi"\n\tand \\ go' }), [], "n");
    const rendered = renderTemplate('{"text": {{json .Output}}, "again": {{ .Output | json }}, "job": {{json .JobName -}} }', tricky);
    expect(JSON.parse(rendered)).toEqual({ text: 'say "hi"\n\tand \\ go', again: 'say "hi"\n\tand \\ go', job: "nightly" });
    expect(renderTemplate("{{json .Nope}} {{ json .JobName | json }}", data)).toBe("{{json .Nope}} {{ json .JobName | json }}");
  });

  it("an unfinished execution reports Go's zero time as its end", () => {
    expect(templateData(execution({ finished_at: null }), [], "n").FinishedAt).toBe("0001-01-01T00:00:00Z");
  });
});
