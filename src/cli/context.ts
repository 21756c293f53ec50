// What every command receives: the process edges, the global flags, and the style.
import type { Io } from "./io.js";
import { colorEnabled, makeStyle, type Style } from "./output.js";
import { DEFAULT_ADDRESS } from "../shared/paths.js";

export interface GlobalFlags {
  address?: string;
  token?: string;
  json?: boolean;
}

export interface Ctx {
  io: Io;
  /** Raw --address / DKRON_ADDR / default; the client normalises it. */
  address: string;
  token?: string;
  json: boolean;
  style: Style;
}

/** Flags win over the environment; DKRON_ADDR and DKRON_API_TOKEN are the fallbacks. */
export function makeCtx(io: Io, flags: GlobalFlags): Ctx {
  const token = flags.token ?? (io.env.DKRON_API_TOKEN || undefined);
  return {
    io,
    address: flags.address ?? (io.env.DKRON_ADDR || DEFAULT_ADDRESS),
    ...(token ? { token } : {}),
    json: flags.json === true,
    style: makeStyle(colorEnabled(io.stdout.isTTY, io.env)),
  };
}
