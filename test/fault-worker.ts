/**
 * A worker entry for tests that need a fault: `WEFT_TEST_FAULT=crash_after_db_commit` kills the process right after
 * a db_write's first attempt committed, before Temporal hears of it (activities/db/db-write.test.ts).
 */
import process from "node:process";
import { expressionChildEnv, loadWorkerConfig } from "../worker/config.ts";
import { runWorker } from "../worker/run.ts";

const FAULTS = {
  crash_after_db_commit: {
    afterDbCommit: (meta: { attempt: number }) => {
      if (meta.attempt === 1) process.kill(process.pid, "SIGKILL");
    },
  },
};

const fault = process.env.WEFT_TEST_FAULT as keyof typeof FAULTS;
if (!(fault in FAULTS)) throw new Error(`WEFT_TEST_FAULT must be one of ${Object.keys(FAULTS).join(", ")}`);
await runWorker(loadWorkerConfig(process.env), {
  expressionEnv: expressionChildEnv(process.env),
  faults: FAULTS[fault],
});
