/**
 * Fixed settings of the test stack: its own Temporal dev server, database and task queue. Two test runs
 * on one machine can be kept apart with WEFT_TEST_TEMPORAL_PORT and TEST_DATABASE_URL.
 */
export const TEST_TEMPORAL_PORT = Number(process.env.WEFT_TEST_TEMPORAL_PORT ?? 7299);
export const TEST_TEMPORAL_ADDRESS = `127.0.0.1:${TEST_TEMPORAL_PORT}`;
/** The dev server's HTTP API, which the API calls: scripts/temporal-dev.sh puts it at the gRPC port + 10. */
export const TEST_TEMPORAL_HTTP_URL = `http://127.0.0.1:${TEST_TEMPORAL_PORT + 10}`;
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/weft_test";
export const TEST_TASK_QUEUE = "weft-test";
export const TEST_JWT_SECRET = "weft-test-secret-0123456789abcdef0123456789";
export const TEST_BUNDLE_PATH = `.state/test-workflow-bundle-${TEST_TEMPORAL_PORT}.js`;
/** A fixed key encrypting Temporal payloads in tests (base64 of bytes 32…63). */
export const TEST_PAYLOAD_KEY = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
/** A fixed 32-byte master key for secrets in tests (base64 of bytes 0…31). */
export const TEST_SECRETS_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
