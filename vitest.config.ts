import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "test/**/*.test.tsx"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start real nats-server and dkron processes; keep the
    // 2-core machine from being oversubscribed.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
