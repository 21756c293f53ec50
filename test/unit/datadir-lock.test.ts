import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { acquireDataDirLock } from "../../src/server/datadir-lock.js";
import { DkronError } from "../../src/shared/errors.js";
import { until } from "../helpers/until.js";

const dirs: string[] = [];
const children: Array<{ kill(sig: NodeJS.Signals): void }> = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDataDir(): string {
  const base = mkdtempSync(path.join(os.tmpdir(), "dkron-lock-"));
  dirs.push(base);
  return path.join(base, "data", "dir"); // not created yet: acquire creates it
}

function acquireError(dir: string): unknown {
  try {
    acquireDataDirLock(dir).release();
  } catch (err) {
    return err;
  }
  return undefined;
}

/** A pid that certainly belonged to a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(r.stdout);
}

describe("acquireDataDirLock", () => {
  it("creates the dir and a LOCK holding our pid; release removes it", () => {
    const dir = tempDataDir();
    const lock = acquireDataDirLock(dir);
    const file = path.join(dir, "LOCK");
    expect(readFileSync(file, "utf8").split("\n")[0]).toBe(String(process.pid));
    lock.release();
    expect(existsSync(file)).toBe(false);
    lock.release(); // idempotent
    acquireDataDirLock(dir).release(); // free again
  });

  it("refuses a second agent while the owner is alive (conflict)", async () => {
    const dir = tempDataDir();
    // Another process takes the lock and holds it.
    const moduleUrl = new URL("../../src/server/datadir-lock.ts", import.meta.url).href;
    const other = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "--input-type=module",
        "-e",
        `const { acquireDataDirLock } = await import(${JSON.stringify(moduleUrl)});
         acquireDataDirLock(${JSON.stringify(dir)}); process.stdout.write("LOCKED\\n"); setInterval(() => {}, 1000);`,
      ],
      { stdio: ["ignore", "pipe", "inherit"], cwd: path.resolve(import.meta.dirname, "../..") },
    );
    children.push(other);
    let out = "";
    other.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    await until(() => out.includes("LOCKED"), { message: "other process holds the lock" });

    const err = acquireError(dir);
    expect(err).toBeInstanceOf(DkronError);
    expect((err as DkronError).code).toBe("conflict");
    expect((err as DkronError).message).toBe(
      `data dir ${dir} is in use by another dkron agent (pid ${other.pid})`,
    );
    expect(readFileSync(path.join(dir, "LOCK"), "utf8").split("\n")[0]).toBe(String(other.pid));

    // Once it is gone (killed, no release), its lock is stale and is taken over.
    other.kill("SIGKILL");
    await until(() => other.exitCode !== null || other.signalCode !== null, { message: "other process exit" });
    const lock = acquireDataDirLock(dir);
    expect(readFileSync(path.join(dir, "LOCK"), "utf8").split("\n")[0]).toBe(String(process.pid));
    lock.release();
  });

  it("refuses when LOCK names another live process (pid only, as older files have)", () => {
    const dir = tempDataDir();
    acquireDataDirLock(dir).release();
    writeFileSync(path.join(dir, "LOCK"), `${process.ppid}\n`);
    expect(acquireError(dir)).toMatchObject({ code: "conflict" });
  });

  it("takes over a stale lock whose pid has exited", () => {
    const dir = tempDataDir();
    acquireDataDirLock(dir).release();
    const pid = deadPid();
    writeFileSync(path.join(dir, "LOCK"), `${pid}\n`);
    const lock = acquireDataDirLock(dir);
    expect(readFileSync(path.join(dir, "LOCK"), "utf8").split("\n")[0]).toBe(String(process.pid));
    expect(existsSync(path.join(dir, "LOCK.takeover"))).toBe(false);
    lock.release();
    expect(existsSync(path.join(dir, "LOCK"))).toBe(false);
  });

  it("takes over a lock whose pid was reused by an unrelated process (start time differs)", (ctx) => {
    if (!existsSync("/proc/self/stat")) ctx.skip();
    const dir = tempDataDir();
    acquireDataDirLock(dir).release();
    // Live pid (our parent), but a start time that is not its own.
    writeFileSync(path.join(dir, "LOCK"), `${process.ppid}\n1\n`);
    const lock = acquireDataDirLock(dir);
    expect(readFileSync(path.join(dir, "LOCK"), "utf8").split("\n")[0]).toBe(String(process.pid));
    lock.release();
  });

  it("takes over garbage in LOCK", () => {
    const dir = tempDataDir();
    acquireDataDirLock(dir).release();
    writeFileSync(path.join(dir, "LOCK"), "not a pid");
    acquireDataDirLock(dir).release();
  });

  it("release() leaves a LOCK that is no longer ours", () => {
    const dir = tempDataDir();
    const lock = acquireDataDirLock(dir);
    writeFileSync(path.join(dir, "LOCK"), `${process.ppid}\n`);
    lock.release();
    expect(readFileSync(path.join(dir, "LOCK"), "utf8")).toBe(`${process.ppid}\n`);
  });
});
