/** Auth request and response schemas and routes. */
import { createRoute, z } from "@hono/zod-openapi";
import { bearerSecurity, errorResponses, ErrorSchema, jsonBody, jsonResponse } from "../openapi.ts";
import { BCRYPT_MAX_BYTES, fitsBcrypt } from "./passwords.ts";

export const UserSchema = z.object({
  id: z.string().uuid(),
  email: z.string(),
  full_name: z.string().nullable(),
  created_at: z.string(),
}).openapi("User");

// bcrypt reads at most 72 bytes; longer passwords would be silently truncated, so they are refused.
const password = z.string().min(8).max(BCRYPT_MAX_BYTES).refine(fitsBcrypt, {
  message: `password must be at most ${BCRYPT_MAX_BYTES} bytes`,
});

export const RegisterBody = z.object({
  email: z.email().max(254),
  password,
  full_name: z.string().trim().min(1).max(200).optional(),
}).strict().openapi("RegisterRequest");

export const LoginBody = z.object({
  email: z.string().min(1).max(254),
  password: z.string().min(1).max(1024),
}).strict().openapi("LoginRequest");

export const DeleteAccountBody = z.object({
  password: z.string().min(1).max(1024),
}).strict().openapi("DeleteAccountRequest");

const errorResponse = (description: string) => ({
  description,
  content: { "application/json": { schema: ErrorSchema } },
});
const rateLimited = {
  ...errorResponse("Too many failed attempts for this account or address; the Retry-After header says when to retry"),
  headers: { "Retry-After": { description: "Seconds until the next attempt is allowed", schema: { type: "integer" } } },
} as const;

export const TokenSchema = z.object({
  access_token: z.string(),
  token_type: z.literal("bearer"),
  expires_in: z.number().int(),
}).openapi("Token");

export const registerRoute = createRoute({
  method: "post",
  path: "/api/auth/register",
  tags: ["auth"],
  summary: "Create an account",
  request: jsonBody(RegisterBody),
  responses: {
    201: jsonResponse("The new user", UserSchema),
    400: errorResponses[400],
    409: jsonResponse("Email already registered", z.unknown()),
  },
});

export const loginRoute = createRoute({
  method: "post",
  path: "/api/auth/login",
  tags: ["auth"],
  summary: "Exchange email and password for an access token",
  request: jsonBody(LoginBody),
  responses: {
    200: jsonResponse("Access token", TokenSchema),
    400: errorResponses[400],
    401: errorResponses[401],
    429: rateLimited,
  },
});

export const meRoute = createRoute({
  method: "get",
  path: "/api/auth/me",
  tags: ["auth"],
  summary: "The authenticated user",
  security: bearerSecurity,
  responses: { 200: jsonResponse("The user", UserSchema), 401: errorResponses[401] },
});

export const deleteMeRoute = createRoute({
  method: "delete",
  path: "/api/auth/me",
  tags: ["auth"],
  summary: "Delete the account and everything it owns (confirmed with its password); its tokens stop working at once",
  security: bearerSecurity,
  request: jsonBody(DeleteAccountBody),
  responses: {
    204: { description: "The account and everything it owned are deleted" },
    400: errorResponses[400],
    401: errorResponses[401],
    403: errorResponse("Wrong password"),
    429: rateLimited,
    409: errorResponse("The account is the last owner of a team workspace; nothing was deleted"),
    503: errorResponse("The workflow engine is unavailable; nothing was deleted"),
  },
});
