// Shared by the command modules (which are loaded lazily, so the client is too).
import { DkronClient } from "../../client/http.js";
import { DkronError } from "../../shared/errors.js";
import type { Ctx } from "../context.js";
import { UsageError } from "../errors.js";
import { toJsonText } from "../output.js";

export function clientOf(ctx: Ctx): DkronClient {
  try {
    return new DkronClient({ address: ctx.address, ...(ctx.token ? { token: ctx.token } : {}) });
  } catch (err) {
    if (err instanceof DkronError && err.code === "invalid_argument") throw new UsageError(`--${err.message}`);
    throw err;
  }
}

/** --json: the value and nothing else; otherwise the human rendering. */
export function emit(ctx: Ctx, value: unknown, human: () => string): void {
  ctx.io.stdout.write(ctx.json ? toJsonText(value) : human());
}
