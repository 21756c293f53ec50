// The whole command surface in one place. Actions load their modules lazily so
// `dkron <anything>` only pays for commander plus the command it runs.
import { Command, CommanderError, Option } from "commander";
import { isDkronError } from "../shared/errors.js";
import { VERSION } from "../shared/version.js";
import { DEFAULT_ADDRESS } from "../shared/paths.js";
import { resolveAgentOptions, type AgentCliOptions, type AgentFlags } from "./agent-options.js";
import { makeCtx, type Ctx, type GlobalFlags } from "./context.js";
import { UsageError, errorLine, exitCodeFor } from "./errors.js";
import type { Io } from "./io.js";
import type { JobAddFlags } from "./job-builder.js";
import type { JobListFlags } from "./commands/jobs.js";
import type { ExecutionListFlags } from "./commands/executions.js";
import { collect, collectKeyValue, collectMap, nonNegativeInt, positiveInt } from "./parse.js";

export interface Actions {
  agent(opts: AgentCliOptions): Promise<void>;
  jobsAdd(ctx: Ctx, name: string | undefined, flags: JobAddFlags): Promise<void>;
  jobsList(ctx: Ctx, flags: JobListFlags): Promise<void>;
  jobsShow(ctx: Ctx, name: string): Promise<void>;
  jobsRun(ctx: Ctx, name: string): Promise<void>;
  jobsDelete(ctx: Ctx, name: string, flags: { yes?: boolean }): Promise<void>;
  jobsToggle(ctx: Ctx, name: string): Promise<void>;
  executionsList(ctx: Ctx, job: string | undefined, flags: ExecutionListFlags): Promise<void>;
  executionsShow(ctx: Ctx, job: string, id: string): Promise<void>;
  executionsKill(ctx: Ctx, id: string): Promise<void>;
  members(ctx: Ctx): Promise<void>;
  leader(ctx: Ctx): Promise<void>;
  leave(ctx: Ctx): Promise<void>;
  version(ctx: Ctx): Promise<void>;
  completion(ctx: Ctx, shell: string): Promise<void>;
  tui(ctx: Ctx): Promise<void>;
}

const jobs = () => import("./commands/jobs.js");
const executions = () => import("./commands/executions.js");
const cluster = () => import("./commands/cluster.js");

export const lazyActions: Actions = {
  agent: async (opts) => {
    const { runAgent } = await import("./agent.js");
    try {
      await runAgent(opts);
    } catch (err) {
      // The agent rejects bad option values as invalid_argument: for the CLI that is a usage error.
      if (isDkronError(err, "invalid_argument")) throw new UsageError(err.message);
      throw err;
    }
  },
  jobsAdd: async (ctx, name, flags) => (await jobs()).add(ctx, name, flags),
  jobsList: async (ctx, flags) => (await jobs()).list(ctx, flags),
  jobsShow: async (ctx, name) => (await jobs()).show(ctx, name),
  jobsRun: async (ctx, name) => (await jobs()).run(ctx, name),
  jobsDelete: async (ctx, name, flags) => (await jobs()).remove(ctx, name, flags),
  jobsToggle: async (ctx, name) => (await jobs()).toggle(ctx, name),
  executionsList: async (ctx, job, flags) => (await executions()).list(ctx, job, flags),
  executionsShow: async (ctx, job, id) => (await executions()).show(ctx, job, id),
  executionsKill: async (ctx, id) => (await executions()).kill(ctx, id),
  members: async (ctx) => (await cluster()).members(ctx),
  leader: async (ctx) => (await cluster()).leader(ctx),
  leave: async (ctx) => (await cluster()).leave(ctx),
  version: async (ctx) => (await cluster()).version(ctx),
  completion: async (ctx, shell) => (await import("./commands/completion.js")).completion(ctx, shell),
  tui: async (ctx) => {
    if (!ctx.io.stdout.isTTY || !ctx.io.stdin.isTTY) throw new UsageError("dkron tui needs a terminal (stdin and stdout must be a TTY)");
    const { normalizeAddress } = await import("../client/http.js");
    try {
      normalizeAddress(ctx.address);
    } catch (err) {
      if (isDkronError(err, "invalid_argument")) throw new UsageError(err.message);
      throw err;
    }
    // Ink and React load here, and only here.
    const { runTui } = await import("../tui/main.js");
    await runTui({ address: ctx.address, env: ctx.io.env, ...(ctx.token ? { token: ctx.token } : {}) });
  },
};

const env = (name: string) => ` (env DKRON_${name})`;

export function buildProgram(io: Io, actions: Actions = lazyActions): Command {
  const program = new Command("dkron");
  // Settings before any subcommand: they are inherited at creation.
  program
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // Printed once, as one line, by runCli.
      outputError: () => {},
    })
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .description("Distributed, fault-tolerant cron (Dkron-compatible) — agent and command-line client")
    .version(VERSION, "-V, --version", "print the client version")
    .option("--address <url>", `agent HTTP address${env("ADDR")}, default ${DEFAULT_ADDRESS}`)
    .option("--token <token>", `API token sent as a Bearer header${env("API_TOKEN")}`)
    .option("--json", "print JSON (Dkron objects) on stdout and nothing else");

  const ctxOf = (cmd: Command): Ctx => makeCtx(io, cmd.optsWithGlobals<GlobalFlags>());

  program
    .command("agent")
    .description("run an agent (server with --server, otherwise a worker)")
    .option("--server", `take part in leader election and scheduling${env("SERVER")}`)
    .option("--node-name <name>", `unique node name, default the hostname${env("NODE_NAME")}`)
    .option("--data-dir <dir>", `where state is kept, default dkron.data${env("DATA_DIR")}`)
    .option("--http-addr <addr>", `HTTP API listen address, default 127.0.0.1:8080${env("HTTP_ADDR")}`)
    .option("--bind-addr <addr>", `embedded NATS cluster (route) listen address, default 127.0.0.1:8946${env("BIND_ADDR")}`)
    .option("--advertise-addr <addr>", `address other nodes use to reach this one${env("ADVERTISE_ADDR")}`)
    .option("--rpc-port <port>", `embedded NATS client port, default 6868${env("RPC_PORT")}`)
    .option("--bootstrap-expect <n>", `number of servers; replicas of the store = min(n, 3), default 1${env("BOOTSTRAP_EXPECT")}`)
    .option("--join <addr>", `join a cluster member at start, repeatable${env("JOIN")} as a comma list`, collect)
    .option("--retry-join <addr>", `like --join but keep retrying, repeatable${env("RETRY_JOIN")}`, collect)
    .option("--tag <k=v>", `node tag, repeatable${env("TAG")} as k=v,k2=v2`, collectKeyValue)
    .option("--nats-url <url>", `use an external NATS server, repeatable${env("NATS_URL")}`, collect)
    .option("--nats-server-bin <path>", `nats-server binary for the embedded server${env("NATS_SERVER_BIN")}`)
    .option("--encrypt <key>", `shared cluster secret (NATS auth); required to listen beyond loopback${env("ENCRYPT")}`)
    .option("--api-token <token>", `require this Bearer token on the API${env("API_TOKEN")}`)
    .option("--log-level <level>", `debug|info|warn|error${env("LOG_LEVEL")}`)
    .option("--log-file <path>", `log to a file instead of stderr${env("LOG_FILE")}`)
    .option("--webhook-endpoint <url>", `POST a report here after each execution's final attempt${env("WEBHOOK_ENDPOINT")}`)
    .option("--webhook-payload <template>", `report template ({{.JobName}}, {{.Success}}, {{.Output}}, …)${env("WEBHOOK_PAYLOAD")}`)
    .option("--webhook-headers <header>", `"Key: Value" header for the webhook, repeatable${env("WEBHOOK_HEADERS")}`, collect)
    .option("--pre-webhook-endpoint <url>", `POST here when an execution starts${env("PRE_WEBHOOK_ENDPOINT")}`)
    .option("--pre-webhook-payload <template>", `template for the pre-webhook${env("PRE_WEBHOOK_PAYLOAD")}`)
    .option("--pre-webhook-headers <header>", `"Key: Value" header for the pre-webhook, repeatable${env("PRE_WEBHOOK_HEADERS")}`, collect)
    .option("--mail-host <host>", `SMTP host for execution reports to the job's owner_email${env("MAIL_HOST")}`)
    .option("--mail-port <port>", `SMTP port${env("MAIL_PORT")}`)
    .option("--mail-username <user>", `SMTP user${env("MAIL_USERNAME")}`)
    .option("--mail-password <password>", `SMTP password${env("MAIL_PASSWORD")}`)
    .option("--mail-from <address>", `sender address${env("MAIL_FROM")}`)
    .option("--mail-payload <template>", `mail body template (default: the output)${env("MAIL_PAYLOAD")}`)
    .option("--mail-subject-prefix <text>", `subject prefix, default [Dkron]${env("MAIL_SUBJECT_PREFIX")}`)
    .action(async (flags: AgentFlags) => actions.agent(resolveAgentOptions(flags, io.env)));

  const jobsCmd = program.command("jobs").description("create, list, inspect, run and delete jobs");

  jobsCmd
    .command("add")
    .description("create or update a job (shell executor unless --executor)")
    .argument("[name]", "job name (lowercase letters, digits, _ and -); optional with --file")
    .option("--schedule <spec>", 'cron with seconds ("0 */5 * * * *"), @every 1m, @daily, @at <time>, @manually')
    .option("--command <cmd>", "command to run (sets executor_config.command)")
    .option("--shell", "run the command under /bin/sh -c (executor_config.shell=true)")
    .option("--executor <name>", "executor: shell, http, …")
    .option("--config <k=v>", "executor_config entry, repeatable", collectMap)
    .option("--tag <k=v>", "target node tag, repeatable (value:N picks N nodes)", collectMap)
    .option("--metadata <k=v>", "metadata entry, repeatable", collectMap)
    .option("--timezone <tz>", "IANA time zone for the schedule, e.g. Europe/Madrid")
    .option("--disabled", "create the job disabled")
    .option("--retries <n>", "retries after a failed run", nonNegativeInt)
    .addOption(new Option("--concurrency <mode>", "overlapping runs").choices(["allow", "forbid"]))
    .option("--parent <name>", "run after this job succeeds (schedule may then be empty)")
    .option("--displayname <text>", "display name")
    .option("--owner <name>", "owner")
    .option("--owner-email <email>", "owner e-mail, for notifications")
    .addOption(new Option("--catchup <mode>", "missed runs after downtime").choices(["none", "last", "all"]))
    .option("--catchup-window <duration>", "how far back missed runs are caught up, e.g. 1h")
    .option("--ephemeral", "delete the job after its first successful run")
    .option("--starts-at <time>", "do not run before this RFC3339 time")
    .option("--expires-at <time>", "do not run after this RFC3339 time")
    .option("--run", "run the job once right after saving it")
    .option("--file <path>", "full Dkron job JSON, - for stdin (other flags override its fields)")
    .action(async (name: string | undefined, flags: JobAddFlags, cmd: Command) =>
      actions.jobsAdd(ctxOf(cmd), name, flags),
    );

  jobsCmd
    .command("list")
    .alias("ls")
    .description("list jobs")
    .option("--query <text>", "only names/display names containing text")
    .addOption(
      new Option("--status <status>", "only jobs with this status").choices([
        "success",
        "failed",
        "partially_failed",
        "untriggered",
      ]),
    )
    .option("--disabled", "only disabled jobs")
    .option("--enabled", "only enabled jobs")
    .option("--metadata <k=v>", "only jobs with this metadata, repeatable", collectMap)
    .option("--sort <field>", "name, displayname, schedule, next, success_count, …; prefix - for descending")
    .option("--limit <n>", "at most n jobs", positiveInt)
    .action(async (flags: JobListFlags, cmd: Command) => actions.jobsList(ctxOf(cmd), flags));

  jobsCmd
    .command("show")
    .description("show one job")
    .argument("<name>")
    .action(async (name: string, _flags: unknown, cmd: Command) => actions.jobsShow(ctxOf(cmd), name));

  jobsCmd
    .command("run")
    .description("run a job now")
    .argument("<name>")
    .action(async (name: string, _flags: unknown, cmd: Command) => actions.jobsRun(ctxOf(cmd), name));

  jobsCmd
    .command("delete")
    .alias("rm")
    .description("delete a job (asks first on a terminal unless --yes)")
    .argument("<name>")
    .option("-y, --yes", "do not ask")
    .action(async (name: string, flags: { yes?: boolean }, cmd: Command) =>
      actions.jobsDelete(ctxOf(cmd), name, flags),
    );

  jobsCmd
    .command("toggle")
    .description("enable a disabled job, disable an enabled one")
    .argument("<name>")
    .action(async (name: string, _flags: unknown, cmd: Command) => actions.jobsToggle(ctxOf(cmd), name));

  const execCmd = program
    .command("executions")
    .description("recent executions of one job, or of all jobs")
    .argument("[job]", "only this job's executions")
    .option("--limit <n>", "at most n executions", positiveInt, 20)
    .addOption(new Option("--status <status>", "only these").choices(["running", "success", "failed"]))
    .option("--output", "add a column with the tail of each output")
    .action(async (job: string | undefined, flags: ExecutionListFlags, cmd: Command) =>
      actions.executionsList(ctxOf(cmd), job, flags),
    );

  execCmd
    .command("show")
    .description("show one execution with its output")
    .argument("<job>")
    .argument("<id>")
    .action(async (job: string, id: string, _flags: unknown, cmd: Command) =>
      actions.executionsShow(ctxOf(cmd), job, id),
    );

  execCmd
    .command("kill")
    .description("kill a running execution (its whole process group) on whatever node runs it")
    .argument("<id>", "execution id, as `dkron executions` lists it")
    .action(async (id: string, _flags: unknown, cmd: Command) => actions.executionsKill(ctxOf(cmd), id));

  program
    .command("members")
    .description("list cluster members")
    .action(async (_flags: unknown, cmd: Command) => actions.members(ctxOf(cmd)));

  program
    .command("leader")
    .description("show the current leader")
    .action(async (_flags: unknown, cmd: Command) => actions.leader(ctxOf(cmd)));

  program
    .command("leave")
    .description("ask the agent at --address to leave the cluster gracefully and stop")
    .action(async (_flags: unknown, cmd: Command) => actions.leave(ctxOf(cmd)));

  program
    .command("version")
    .description("print client and server versions")
    .action(async (_flags: unknown, cmd: Command) => actions.version(ctxOf(cmd)));

  program
    .command("completion")
    .description("print a shell completion script (job names are completed from the server)")
    .argument("<shell>", "bash, zsh or fish")
    .action(async (shell: string, _flags: unknown, cmd: Command) => actions.completion(ctxOf(cmd), shell));

  program
    .command("tui")
    .description("live dashboard: jobs, executions, output, members (press ? in it for keys)")
    .action(async (_flags: unknown, cmd: Command) => actions.tui(ctxOf(cmd)));

  return program;
}

const SILENT = new Set(["commander.help", "commander.helpDisplayed", "commander.version"]);

/** Parses and runs; never throws. Returns the exit code after printing at most one error line. */
export async function runCli(args: readonly string[], io: Io, actions?: Actions): Promise<number> {
  try {
    await buildProgram(io, actions).parseAsync([...args], { from: "user" });
    return 0;
  } catch (err) {
    const code = exitCodeFor(err);
    if (!(err instanceof CommanderError && SILENT.has(err.code))) io.stderr.write(`dkron: ${errorLine(err)}\n`);
    // Opt-in, for bug reports: the one-line contract holds otherwise.
    if (io.env.DKRON_DEBUG && err instanceof Error && !(err instanceof CommanderError)) io.stderr.write(`${err.stack}\n`);
    return code;
  }
}
