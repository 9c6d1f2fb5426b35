import { verify } from "hono/jwt";
import { ConfigError } from "../errors.ts";

/** Who is calling the API: a user id (tokens and JWTs name one) and whether they review everyone's work. */
export interface ApiUser {
  id: string;
  reviewer: boolean;
}

export const TOKENS_ENV = "CHATFLOW_API_TOKENS";
export const JWT_SECRET_ENV = "CHATFLOW_JWT_SECRET";
/** The user of a loopback server with no tokens configured. */
export const LOCAL_USER = "local";

/** Shortest API token accepted: a guessable token is refused at start. */
const MIN_TOKEN_LENGTH = 16;
/** Shortest HS256 secret accepted (RFC 7518 §3.2: at least the hash size, 256 bits). */
const MIN_SECRET_LENGTH = 32;

export interface AuthSettings {
  /** Token → user id. */
  tokens: ReadonlyMap<string, string>;
  jwtSecret?: string;
}

/**
 * Tokens and the JWT secret from the environment: `CHATFLOW_API_TOKENS` is a comma list of
 * `user:token` pairs (each token bound to its user), `CHATFLOW_JWT_SECRET` an HS256 secret.
 * A malformed value is refused naming the variable, never showing a token.
 */
export function authFromEnv(env: NodeJS.ProcessEnv): AuthSettings {
  const tokens = new Map<string, string>();
  const raw = env[TOKENS_ENV]?.trim();
  if (raw) {
    raw.split(",").forEach((pair, index) => {
      const entry = pair.trim();
      if (entry === "") return;
      const colon = entry.indexOf(":");
      const user = colon > 0 ? entry.slice(0, colon).trim() : "";
      const token = colon > 0 ? entry.slice(colon + 1).trim() : "";
      if (!/^[A-Za-z0-9._@-]{1,64}$/.test(user) || token === "") {
        throw new ConfigError(`${TOKENS_ENV}: entry ${index + 1} is not "user:token" (users are 1-64 letters, digits, . _ @ -). Example: ${TOKENS_ENV}="alice:<a long random token>,bob:<another>"`);
      }
      if (token.length < MIN_TOKEN_LENGTH) throw new ConfigError(`${TOKENS_ENV}: the token of ${user} is shorter than ${MIN_TOKEN_LENGTH} characters; use a long random one (e.g. openssl rand -hex 24).`);
      if (tokens.has(token)) throw new ConfigError(`${TOKENS_ENV}: two entries share one token; each token belongs to one user.`);
      tokens.set(token, user);
    });
  }
  const jwtSecret = env[JWT_SECRET_ENV]?.trim();
  if (jwtSecret !== undefined && jwtSecret !== "" && jwtSecret.length < MIN_SECRET_LENGTH) {
    throw new ConfigError(`${JWT_SECRET_ENV} is shorter than ${MIN_SECRET_LENGTH} characters; HS256 needs a secret of at least 256 bits (e.g. openssl rand -hex 32).`);
  }
  return { tokens, ...(jwtSecret ? { jwtSecret } : {}) };
}

/** Whether any credential is configured (otherwise only a loopback bind is allowed, as one local user). */
export function authConfigured(auth: AuthSettings): boolean {
  return auth.tokens.size > 0 || auth.jwtSecret !== undefined;
}

/** Why a request was not let in: said in the 401's message. */
export class Unauthenticated extends Error {}

/**
 * The user behind a bearer credential: an API token, or a JWT signed with the secret (HS256,
 * `sub` the user, `exp` required and honoured: a JWT without one would be good forever, and
 * a leaked one could not be retired but by changing the secret for everyone). Throws
 * Unauthenticated with a reason a client can act on.
 */
export async function authenticate(auth: AuthSettings, credential: string | undefined): Promise<string> {
  if (!authConfigured(auth)) return LOCAL_USER;
  if (!credential) throw new Unauthenticated("An API token or a JWT is required: send Authorization: Bearer <token>.");
  const user = auth.tokens.get(credential);
  if (user !== undefined) return user;
  if (auth.jwtSecret && credential.split(".").length === 3) {
    let payload: Record<string, unknown>;
    try {
      payload = await verify(credential, auth.jwtSecret, "HS256");
    } catch (error) {
      const expired = error instanceof Error && error.name === "JwtTokenExpired";
      throw new Unauthenticated(expired ? "The JWT has expired." : "The JWT is not valid (bad signature, algorithm or claims).");
    }
    if (typeof payload.exp !== "number" || !Number.isFinite(payload.exp)) throw new Unauthenticated("The JWT has no exp: an expiry time is required.");
    if (typeof payload.sub !== "string" || !/^[A-Za-z0-9._@-]{1,64}$/.test(payload.sub)) throw new Unauthenticated("The JWT has no usable sub (the user id).");
    return payload.sub;
  }
  throw new Unauthenticated("The token is not valid.");
}

/** The credential of a request: `Authorization: Bearer …`, or `?access_token=` (EventSource and WebSocket can't set headers). */
export function credentialOf(authorization: string | undefined, query: string | undefined): string | undefined {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
  return bearer?.[1] ?? (query?.trim() || undefined);
}
