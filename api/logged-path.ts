/** Request paths as logs may show them: a webhook's path is its credential, so the token is never written. */
const HOOK_PATH = /^\/+api\/+hooks(\/|$)/i;

export const loggedPath = (path: string) => (HOOK_PATH.test(path) ? "/api/hooks/[redacted]" : path);
