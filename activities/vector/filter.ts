/** Metadata filters of searches: every key must hold, by equality or membership (`{"in": [...]}`). */
import type { MetadataFilter } from "../../core/contract.ts";

export type { MetadataFilter };

export function matchesFilter(metadata: Record<string, unknown>, filter: MetadataFilter): boolean {
  for (const [key, want] of Object.entries(filter)) {
    const value = Object.hasOwn(metadata, key) ? metadata[key] : null;
    if (want !== null && typeof want === "object") {
      if (!want.in.includes(value as string)) return false;
    } else if (value !== want) return false;
  }
  return true;
}
