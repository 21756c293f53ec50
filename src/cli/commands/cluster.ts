// dkron members | leader | version
import { isDkronError } from "../../shared/errors.js";
import { VERSION } from "../../shared/version.js";
import type { Ctx } from "../context.js";
import { renderKeyValues } from "../output.js";
import { memberDetails, membersTable } from "../views.js";
import { clientOf, emit } from "./common.js";

export async function members(ctx: Ctx): Promise<void> {
  const list = await clientOf(ctx).members();
  emit(ctx, list, () => (list.length ? membersTable(list, ctx.io.now(), ctx.style) : "no members\n"));
}

export async function leave(ctx: Ctx): Promise<void> {
  const client = clientOf(ctx);
  const list = await client.leave();
  emit(ctx, list, () => `${client.address} is leaving the cluster\n`);
}

export async function leader(ctx: Ctx): Promise<void> {
  const m = await clientOf(ctx).leader();
  emit(ctx, m, () => memberDetails(m, ctx.io.now(), ctx.style));
}

export interface VersionReport {
  client: string;
  server: { name: string; version: string; address: string } | null;
  /** Why the server part is missing. */
  error?: string;
}

/** Always exits 0 when the client itself works: the server part is best effort. */
export async function version(ctx: Ctx): Promise<void> {
  const client = clientOf(ctx);
  let report: VersionReport;
  try {
    const info = await client.info();
    report = {
      client: VERSION,
      server: { name: info.agent?.name ?? "", version: info.agent?.version ?? "", address: client.address },
    };
  } catch (err) {
    if (!isDkronError(err)) throw err;
    report = { client: VERSION, server: null, error: err.message };
  }
  emit(ctx, report, () =>
    renderKeyValues(
      [
        ["client", VERSION],
        ["server", report.server ? `${report.server.version} (${report.server.name} at ${report.server.address})` : ctx.style.dim(`unknown: ${report.error}`)],
      ],
      ctx.style,
    ),
  );
}
