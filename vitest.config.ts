/**
 * Two projects. `unit`: pure code and code under Temporal's own test environments, no global setup (no
 * PostgreSQL, no stack Temporal server, no worker): `npx vitest run --project unit`. `integration`: every
 * other test, against the real stack that test/global-setup.ts brings up once.
 */
import { defineConfig } from "vitest/config";

/** What needs no stack: a new such test is named `*.unit.test.ts` or lives in one of these folders. */
const UNIT = ["core/**/*.test.ts", "lint/**/*.test.ts", "workflows/**/*.test.ts", "**/*.unit.test.ts"];
const IGNORED = ["node_modules/**", ".state/**"];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    projects: [
      { extends: true, test: { name: "unit", include: UNIT, exclude: IGNORED } },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["**/*.test.ts"],
          exclude: [...IGNORED, ...UNIT],
          globalSetup: ["test/global-setup.ts"],
        },
      },
    ],
  },
});
