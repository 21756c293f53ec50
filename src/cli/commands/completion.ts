// dkron completion bash|zsh|fish — prints the completion script shipped in completions/.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { UsageError } from "../errors.js";
import type { Ctx } from "../context.js";

const FILES: Record<string, string> = { bash: "dkron.bash", zsh: "_dkron", fish: "dkron.fish" };

function completionsDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, "completions");
    if (existsSync(path.join(candidate, "dkron.bash"))) return candidate;
    dir = path.dirname(dir);
  }
  throw new UsageError("completion scripts not found next to this dkron");
}

export async function completion(ctx: Ctx, shell: string): Promise<void> {
  const file = FILES[shell];
  if (!file) throw new UsageError(`completion: unknown shell ${JSON.stringify(shell)} (bash, zsh or fish)`);
  ctx.io.stdout.write(readFileSync(path.join(completionsDir(), file), "utf8"));
}
