/** IANA time zone names for schedules: checked with Intl, spelled the way Temporal's zone database expects. */

/** A zone name Intl knows (never a bare offset like +01:00, which Temporal does not take). */
export function isTimeZone(name: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(name)) return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/**
 * Intl matches zone names case-insensitively but Temporal does not, so "europe/paris" is stored as
 * "Europe/Paris"; a name Intl would replace by another (Asia/Kolkata → Asia/Calcutta) is kept as given.
 */
export function canonicalTimeZone(name: string): string {
  const resolved = new Intl.DateTimeFormat("en-US", { timeZone: name }).resolvedOptions().timeZone;
  return resolved.toLowerCase() === name.toLowerCase() ? resolved : name;
}
