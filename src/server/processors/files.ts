// Dkron's `files` processor: writes the output to `<log_dir>/<execution id>.log` (log_dir
// defaults to /var/log/dkron and is created); the stored output becomes the file's path unless
// `forward` is "true". Unlike Dkron, a failed write keeps the output (and says why in it).
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { invalid } from "../../shared/errors.js";
import { storedAs, withNote, type Processor } from "./types.js";

export const DEFAULT_LOG_DIR = "/var/log/dkron";

/** The execution id as a file name: ids are `<ns>-<node>`, and a node name could hold a '/'. */
const fileName = (id: string): string => `${id.replace(/[/\\\0]/g, "_").replace(/^\.+/, "_")}.log`;

export const filesProcessor: Processor = {
  validate(config, name) {
    const dir = config.log_dir;
    if (dir !== undefined && dir !== "" && !path.isAbsolute(dir)) {
      throw invalid(`processors.${name}.log_dir`, `must be an absolute path, got ${JSON.stringify(dir)}`);
    }
  },
  async process(ctx) {
    const dir = ctx.config.log_dir || DEFAULT_LOG_DIR;
    const file = path.join(dir, fileName(ctx.execution.id));
    try {
      await mkdir(dir, { recursive: true });
      await writeFile(file, ctx.execution.output, { mode: 0o644 });
    } catch (err) {
      ctx.log.warn({ job: ctx.job.name, execution: ctx.execution.id, file, err: (err as Error).message }, "files processor: cannot write the output");
      return withNote(ctx.execution, `files processor: output kept, cannot write ${file}: ${(err as Error).message}`);
    }
    ctx.log.debug({ job: ctx.job.name, execution: ctx.execution.id, file }, "files processor: output written");
    return storedAs(ctx, file);
  },
};
