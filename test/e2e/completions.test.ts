// Shell completion: `dkron completion SHELL` prints the shipped scripts, and
// the bash one completes commands, and job names from a real agent.
import { execFileSync } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, BIN, REPO, startAgent, type TestAgent } from "../helpers/agent.js";

function complete(words: string[], env: Record<string, string> = {}): string[] {
  const script = `source ${JSON.stringify(path.join(REPO, "completions/dkron.bash"))}
COMP_WORDS=(${words.map((w) => JSON.stringify(w)).join(" ")}); COMP_CWORD=${words.length - 1}; _dkron; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const out = execFileSync("bash", ["-c", script], {
    env: { ...process.env, PATH: `${path.dirname(BIN)}:${process.env.PATH}`, ...env },
    encoding: "utf8",
  });
  return out.split("\n").filter(Boolean).sort();
}

describe("shell completion", () => {
  let agent: TestAgent;
  beforeAll(async () => {
    agent = await startAgent();
    for (const name of ["comp-alpha", "comp-beta"]) {
      await api(agent.url, "POST", "/v1/jobs", { name, schedule: "@manually", executor_config: { command: "true" } });
    }
  });
  afterAll(async () => agent?.stop());

  it("prints each shell's script and refuses an unknown shell", () => {
    expect(execFileSync(BIN, ["completion", "bash"], { encoding: "utf8" })).toContain("complete -F _dkron dkron");
    expect(execFileSync(BIN, ["completion", "zsh"], { encoding: "utf8" })).toContain("#compdef dkron");
    expect(execFileSync(BIN, ["completion", "fish"], { encoding: "utf8" })).toContain("complete -c dkron");
    let code = 0;
    try {
      execFileSync(BIN, ["completion", "tcsh"], { stdio: "pipe" });
    } catch (err) {
      code = (err as { status: number }).status;
    }
    expect(code).toBe(2);
  });

  it("completes commands and subcommands", () => {
    expect(complete(["dkron", "jo"])).toEqual(["jobs"]);
    expect(complete(["dkron", "jobs", ""])).toEqual(["add", "delete", "list", "run", "show", "toggle"]);
    expect(complete(["dkron", "jobs", "add", "x", "--concurrency", ""])).toEqual(["allow", "forbid", "replace"]);
  });

  it("completes job names from the server", () => {
    expect(complete(["dkron", "jobs", "run", "comp-"], { DKRON_ADDR: agent.url })).toEqual(["comp-alpha", "comp-beta"]);
    expect(complete(["dkron", "--address", agent.url, "jobs", "show", "comp-a"])).toEqual(["comp-alpha"]);
  });
});
