// Processors (src/server/processors): log, files and syslog with their `forward` semantics, syslog
// delivery to real listeners (UDP, unix stream, unix datagram through logger(1)), what happens when
// nothing listens, applyProcessors' order and failure handling, and validateProcessors' field names.
import { spawn, type ChildProcess } from "node:child_process";
import dgram from "node:dgram";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/server/logger.js";
import {
  applyProcessors,
  DEFAULT_LOG_DIR,
  filesProcessor,
  logProcessor,
  processors,
  syslogProcessor,
  validateProcessors,
  type Processor,
} from "../../src/server/processors/index.js";
import { isDkronError } from "../../src/shared/errors.js";
import type { ExecutionRecord } from "../../src/shared/execution.js";
import { parseJobInput, type JobSpec } from "../../src/shared/job.js";
import { until } from "../helpers/until.js";

const job = (procs: Record<string, Record<string, string>> = {}): JobSpec =>
  parseJobInput({ name: "proc_job", schedule: "@manually", processors: procs });

const execution = (over: Partial<ExecutionRecord> = {}): ExecutionRecord => ({
  state: "finished",
  id: "1700000000000000000-node1",
  job_name: "proc_job",
  group_ms: 1_700_000_000_000,
  attempt: 1,
  node_name: "node1",
  started_at: 1_700_000_000_000,
  finished_at: 1_700_000_001_000,
  success: true,
  exit_code: 0,
  output: "line one\nline two\n",
  output_truncated: false,
  trigger: "manual",
  ...over,
});

/** A logger whose JSON lines are kept for inspection. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: "debug" }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { log, lines };
}

const ctx = (config: Record<string, string>, ex = execution(), log = silentLogger()) => ({ job: job(), execution: ex, config, log });

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await Promise.resolve().then(fn).catch(() => undefined);
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "dkron-proc-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe("log processor", () => {
  it("logs the output at info with job and execution fields; stores 'Output in dkron log'", async () => {
    const { log, lines } = capturingLogger();
    const ex = await logProcessor.process(ctx({}, execution(), log));
    expect(ex.output).toBe("Output in dkron log");
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 30, job: "proc_job", execution: "1700000000000000000-node1", success: true, output: "line one\nline two\n" }),
    );
  });

  it("forward: 'true' (any Go ParseBool true) keeps the output", async () => {
    for (const forward of ["true", "1", "TRUE"]) expect((await logProcessor.process(ctx({ forward }))).output).toBe("line one\nline two\n");
    expect((await logProcessor.process(ctx({ forward: "no" }))).output).toBe("Output in dkron log");
  });
});

describe("files processor", () => {
  it("creates log_dir and writes <log_dir>/<execution id>.log; stores the path", async () => {
    const dir = path.join(await tempDir(), "nested", "logs");
    const ex = await filesProcessor.process(ctx({ log_dir: dir }));
    const file = path.join(dir, "1700000000000000000-node1.log");
    expect(ex.output).toBe(file);
    expect(await readFile(file, "utf8")).toBe("line one\nline two\n");
    expect((await stat(file)).mode & 0o777).toBe(0o644);
  });

  it("forward keeps the output and still writes the file", async () => {
    const dir = await tempDir();
    const ex = await filesProcessor.process(ctx({ log_dir: dir, forward: "true" }));
    expect(ex.output).toBe("line one\nline two\n");
    expect(existsSync(path.join(dir, "1700000000000000000-node1.log"))).toBe(true);
  });

  it("a node name with '/' cannot escape log_dir", async () => {
    const dir = await tempDir();
    const ex = await filesProcessor.process(ctx({ log_dir: dir }, execution({ id: "17-../../etc/x" })));
    expect(path.dirname(ex.output)).toBe(dir);
  });

  it("a failed write keeps the output and says why", async () => {
    const blocker = path.join(await tempDir(), "a-file");
    await writeFile(blocker, "");
    const ex = await filesProcessor.process(ctx({ log_dir: path.join(blocker, "sub") }));
    expect(ex.output).toMatch(/^line one\nline two\n\[dkron\] files processor: output kept, cannot write .*a-file\/sub\/.*ENOTDIR/);
  });

  it("defaults log_dir to /var/log/dkron", () => {
    expect(DEFAULT_LOG_DIR).toBe("/var/log/dkron");
  });
});

describe("syslog processor", () => {
  it("sends RFC 5424 messages over UDP, framed by BEGIN/END; stores 'Output in syslog'", async () => {
    const got: string[] = [];
    const server = dgram.createSocket("udp4");
    server.on("message", (m) => got.push(m.toString()));
    await new Promise<void>((resolve) => server.bind(0, "127.0.0.1", resolve));
    cleanups.push(() => server.close());
    const { port } = server.address();
    const ex = await syslogProcessor({ targets: [{ unix: "/nonexistent/dkron-log" }, { udp: { host: "127.0.0.1", port } }] }).process(ctx({}));
    expect(ex.output).toBe("Output in syslog");
    await until(() => got.length === 4, { message: "4 datagrams" });
    const who = "job=proc_job execution=1700000000000000000-node1";
    expect(got.map((m) => m.replace(/^<78>1 \S+ \S+ dkron \d+ - - /, ""))).toEqual([
      `${who}: BEGIN OUTPUT success=true`,
      `${who}: line one`,
      `${who}: line two`,
      `${who}: END OUTPUT`,
    ]);
    expect(got[0]).toMatch(new RegExp(`^<78>1 \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z ${os.hostname()} dkron ${process.pid} - - `));
  });

  it("sends RFC 3164 lines over a unix stream socket", async () => {
    const sock = path.join(await tempDir(), "log.sock");
    let data = "";
    const server = net.createServer((c) => c.on("data", (b) => (data += b.toString())));
    await new Promise<void>((resolve) => server.listen(sock, resolve));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const ex = await syslogProcessor({ targets: [{ unix: sock }] }).process(ctx({ forward: "true" }));
    expect(ex.output).toBe("line one\nline two\n");
    await until(() => data.split("\n").length === 5, { message: "4 lines on the stream" });
    const lines = data.trimEnd().split("\n");
    expect(lines[1]).toMatch(new RegExp(`^<78>[A-Z][a-z]{2} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d dkron\\[${process.pid}\\]: job=proc_job execution=\\S+: line one$`));
  });

  describe("over a unix datagram socket (as /dev/log is), through logger(1)", () => {
    let listener: ChildProcess;
    let sock: string;
    const got: string[] = [];
    beforeAll(async () => {
      sock = path.join(await mkdtemp(path.join(os.tmpdir(), "dkron-syslog-")), "log");
      // Node cannot bind unix datagram sockets; a tiny Python listener stands in for journald/rsyslog.
      const py = "import socket,sys\ns=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\ns.bind(sys.argv[1])\nwhile True:\n  sys.stdout.write(s.recv(65536).decode()+'\\n');sys.stdout.flush()";
      listener = spawn("python3", ["-c", py, sock], { stdio: ["ignore", "pipe", "inherit"] });
      listener.stdout!.on("data", (b: Buffer) => got.push(...b.toString().split("\n").filter(Boolean)));
      await until(() => existsSync(sock), { message: "python unix datagram listener" });
    });
    afterAll(async () => {
      listener?.kill("SIGKILL");
      await rm(path.dirname(sock), { recursive: true, force: true });
    });

    it("delivers each line as a cron.info message tagged dkron", async () => {
      const ex = await syslogProcessor({ targets: [{ unix: sock }] }).process(ctx({}));
      expect(ex.output).toBe("Output in syslog");
      await until(() => got.length === 4, { message: "4 datagrams" });
      expect(got[1]).toMatch(new RegExp(`^<78>.* dkron\\[${process.pid}\\]: job=proc_job execution=\\S+: line one$`));
    });
  });

  it("when no syslog is reachable the output is kept, with each target's reason", async () => {
    const probe = dgram.createSocket("udp4");
    await new Promise<void>((resolve) => probe.bind(0, "127.0.0.1", resolve));
    const { port } = probe.address();
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const notSocket = path.join(await tempDir(), "plain-file");
    await writeFile(notSocket, "");
    const { log, lines } = capturingLogger();
    const targets = [{ unix: "/nonexistent/dkron-log" }, { unix: notSocket }, { udp: { host: "127.0.0.1", port } }];
    const ex = await syslogProcessor({ targets }).process(ctx({}, execution(), log));
    expect(ex.output).toBe(
      `line one\nline two\n[dkron] syslog processor: output kept, no syslog reachable (/nonexistent/dkron-log: ENOENT; ${notSocket}: not a socket; udp://127.0.0.1:${port}: ECONNREFUSED)\n`,
    );
    expect(lines).toContainEqual(expect.objectContaining({ level: 40, msg: "syslog processor: output not sent" }));
  });
});

describe("applyProcessors", () => {
  it("runs the job's processors in order, each on the previous result", async () => {
    const dir = await tempDir();
    const { log, lines } = capturingLogger();
    const ex = await applyProcessors(job({ files: { log_dir: dir }, log: {} }), execution(), log);
    expect(ex.output).toBe("Output in dkron log");
    expect(lines).toContainEqual(expect.objectContaining({ msg: "execution output", output: path.join(dir, "1700000000000000000-node1.log") }));
  });

  it("an unknown processor keeps the output and notes it; later ones still run", async () => {
    const ex = await applyProcessors(job({ fluent: {}, log: { forward: "true" } }), execution({ output: "x" }), silentLogger());
    expect(ex.output).toBe('x\n[dkron] processor "fluent" is not available; output kept\n');
  });

  it("a processor that throws keeps the output and notes why", async () => {
    const registry = new Map<string, Processor>([["bad", { process: () => Promise.reject(new Error("disk on fire")) }], ...processors]);
    const ex = await applyProcessors(job({ bad: {}, log: { forward: "1" } }), execution({ output: "" }), silentLogger(), { registry });
    expect(ex.output).toBe('[dkron] processor "bad" failed: disk on fire\n');
  });

  it("injects reporting_node into each config, and leaves the other fields alone", async () => {
    let seen: Record<string, string> | undefined;
    const registry = new Map<string, Processor>([["spy", { process: (c) => ((seen = c.config), Promise.resolve(c.execution)) }]]);
    const before = execution();
    const ex = await applyProcessors(job({ spy: { a: "b" } }), before, silentLogger(), { registry, reportingNode: "leader-1" });
    expect(seen).toEqual({ a: "b", reporting_node: "leader-1" });
    expect(ex).toEqual(before);
  });

  it("no processors: the same execution", async () => {
    const before = execution();
    expect(await applyProcessors(job(), before, silentLogger())).toBe(before);
  });
});

describe("validateProcessors", () => {
  const fieldOf = (p: Record<string, Record<string, string>>): string | undefined => {
    try {
      validateProcessors(p);
      return undefined;
    } catch (err) {
      if (!isDkronError(err, "invalid_argument")) throw err;
      return err.field;
    }
  };

  it("names the offending processor or key", () => {
    expect(fieldOf({ fluent: {} })).toBe("processors.fluent");
    expect(fieldOf({ log: { forward: "yes" } })).toBe("processors.log.forward");
    expect(fieldOf({ files: { log_dir: "relative/dir" } })).toBe("processors.files.log_dir");
  });

  it("accepts the built-in processors with valid configs", () => {
    expect(fieldOf({})).toBeUndefined();
    expect(fieldOf({ log: { forward: "true" }, files: { log_dir: "/tmp/x", forward: "false" }, syslog: {} })).toBeUndefined();
  });
});
