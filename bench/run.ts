// Benchmarks print numbers; they are not tests. `npm run bench -- <name> [flags]`.
import { failoverBench } from "./failover.js";
import { jobsBench } from "./jobs.js";
import { lagBench } from "./lag.js";

const benches: Record<string, (args: string[]) => Promise<void>> = { lag: lagBench, jobs: jobsBench, failover: failoverBench };
const [name, ...args] = process.argv.slice(2);
const bench = name ? benches[name] : undefined;
if (!bench) {
  console.error(`usage: npm run bench -- <${Object.keys(benches).join("|")}> [flags]`);
  process.exit(2);
}
await bench(args);
