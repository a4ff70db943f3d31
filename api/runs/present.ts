/** A run row as the API shows it: its version and a link to its workflow in the Temporal UI. */
import type { ApiConfig } from "../config.ts";
import type { RunRow } from "./store.ts";
import { temporalUiUrl } from "./temporal.ts";

export function presentRun(config: Pick<ApiConfig, "TEMPORAL_UI_URL" | "TEMPORAL_NAMESPACE">, row: RunRow) {
  const { temporal_workflow_id, temporal_run_id, workflow_version, ...rest } = row;
  return {
    ...rest,
    version: workflow_version,
    temporal: {
      workflow_id: temporal_workflow_id,
      run_id: temporal_run_id,
      ui_url: temporalUiUrl(config, temporal_workflow_id, temporal_run_id),
    },
  };
}
