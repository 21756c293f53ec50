// The built CLI without an agent: usage errors, unreachable servers, help.
import { beforeAll, describe, expect, it } from "vitest";
import { ONE_LINE_ERROR, assertBuilt, closedPort, dkron } from "./cli-run.js";

beforeAll(assertBuilt);

describe("dkron CLI without an agent", () => {
  it("--help lists the commands on stdout and exits 0", async () => {
    const r = await dkron(["--help"]);
    expect(r.code).toBe(0);
    for (const cmd of ["agent", "jobs", "executions", "members", "leader", "version"]) expect(r.stdout).toContain(cmd);
    expect(r.stderr).toBe("");
  });

  it.each([
    [["jobs", "add", "x", "--schedule", "@daily", "--command", "true", "--tag", "foo"], "--tag"],
    [["jobs", "add", "x", "--config", "foo"], "--config"],
    [["jobs", "add", "x", "--retries", "-1"], "--retries"],
    [["jobs", "add", "--schedule", "@daily"], "NAME"],
    [["jobs", "add", "x", "--file", "/nonexistent/job.json"], "--file"],
    [["jobs", "list", "--frobnicate"], "--frobnicate"],
    [["jobz"], "jobz"],
    [["jobs", "list", "--address", "ftp://h"], "--address"],
  ])("usage error %j → exit 2, one line on stderr", async (args, mention) => {
    const r = await dkron(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(ONE_LINE_ERROR);
    expect(r.stderr).toContain(mention);
  });

  it("a bad --file from stdin is a usage error", async () => {
    const r = await dkron(["jobs", "add", "--file", "-"], { input: "{ not json" });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^dkron: --file stdin: not valid JSON/);
  });

  it("an unreachable address → exit 3 with one line naming it", async () => {
    const port = await closedPort();
    const address = `http://127.0.0.1:${port}`;
    for (const args of [["jobs", "list"], ["jobs", "show", "x", "--json"], ["executions"], ["members"]]) {
      const r = await dkron([...args, "--address", address]);
      expect(r.code, args.join(" ")).toBe(3);
      expect(r.stdout).toBe("");
      expect(r.stderr).toBe(`dkron: cannot reach dkron at ${address}: connection refused\n`);
    }
  });

  it("DKRON_ADDR is the fallback address", async () => {
    const port = await closedPort();
    const r = await dkron(["jobs", "list"], { env: { DKRON_ADDR: `127.0.0.1:${port}` } });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`http://127.0.0.1:${port}`);
  });

  it("version --json reports the client even when the server is unreachable", async () => {
    const port = await closedPort();
    const r = await dkron(["version", "--json", "--address", `127.0.0.1:${port}`]);
    expect(r.code).toBe(0);
    const v = JSON.parse(r.stdout) as { client: string; server: unknown; error: string };
    expect(v.client).toMatch(/^\d+\.\d+\.\d+/);
    expect(v.server).toBeNull();
    expect(v.error).toContain("connection refused");
  });
});
