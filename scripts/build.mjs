// Bundles the CLI (which also contains the agent) into dist/ with esbuild.
// Native and worker-thread modules stay external; heavy UI modules are split
// into lazily loaded chunks by the dynamic imports in src/cli.
import { build } from "esbuild";
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import path from "node:path";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));

// Build in place: an agent running from dist/ may still load its lazy chunks.
// Outputs of earlier builds are removed once they are a few minutes old.
const started = Date.now();
const result = await build({
  entryPoints: { cli: "src/cli/main.ts", "exec-host": "src/server/executors/exec-host/host.ts" },
  outdir: "dist",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  sourcemap: "linked",
  legalComments: "none",
  external: ["better-sqlite3"],
  alias: { "react-devtools-core": "./scripts/empty.mjs" },
  define: { __DKRON_VERSION__: JSON.stringify(pkg.version), "process.env.NODE_ENV": JSON.stringify("production") },
  banner: {
    // Bundled CommonJS dependencies call require(); give ESM output one.
    js: "import { createRequire as __dkronCreateRequire } from 'node:module'; const require = __dkronCreateRequire(import.meta.url);",
  },
  logLevel: "warning",
  metafile: true,
});

const distDir = new URL("../dist/", import.meta.url).pathname;
const outputs = new Set(Object.keys(result.metafile.outputs).map((f) => path.resolve(f)));
for (const f of readdirSync(distDir)) {
  const full = path.join(distDir, f);
  if (!outputs.has(full) && started - statSync(full).mtimeMs > 10 * 60_000) rmSync(full, { force: true });
}
