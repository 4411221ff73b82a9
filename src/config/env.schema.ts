import { z } from 'zod';
import { parseOutboundNetworks } from '../common/http/outbound-address-policy';
import { parseDurationSeconds } from './duration';
import { DEFAULT_FORWARD_AUTH_HEADERS, parseClaimHeaders } from './forward-auth/forward-auth-config';
import { DEFAULT_FORWARD_AUTH_SOURCE, parseForwardedSource } from './forward-auth/forwarded-source';
import { parseTrustProxy } from './trust-proxy';

/**
 * Every environment variable Tessera reads, with its type, range and default.
 * Nothing outside `src/config` reads `process.env`; everything else injects AppConfig.
 */

const durationText = (min: number, max: number) =>
  z.string().transform((value, ctx) => {
    const seconds = parseDurationSeconds(value);
    if (seconds === undefined) {
      ctx.addIssue({ code: 'custom', message: 'must be a duration such as 600, 90s, 10m, 12h or 30d' });
      return z.NEVER;
    }
    if (seconds < min || seconds > max) {
      ctx.addIssue({ code: 'custom', message: `must be between ${min} and ${max} seconds` });
      return z.NEVER;
    }
    return seconds;
  });

const duration = (fallback: string, min = 0, max = 10 * 365 * 86400) => z.string().default(fallback).pipe(durationText(min, max));

const int = (fallback: number, min: number, max: number) =>
  z.coerce
    .number({ error: (issue) => (issue.code === 'invalid_type' ? 'must be a number' : undefined) })
    .int('must be a whole number')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`)
    .default(fallback);

const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

const url = z.url({ message: 'must be an absolute http(s) URL', protocol: /^https?$/ });

const csv = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);

/** 32 bytes as 64 hex characters or as base64/base64url (43–44 characters). */
const encryptionKey = z.string().refine((v) => decodeKey(v) !== undefined, {
  message: 'must be 32 bytes, written as 64 hex characters or base64',
});

export function decodeKey(text: string): Buffer | undefined {
  const trimmed = text.trim();
  if (/^[0-9a-f]{64}$/i.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}={0,1}$/.test(trimmed)) {
    const buf = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    return buf.length === 32 ? buf : undefined;
  }
  return undefined;
}

export const SIGNING_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: int(3000, 0, 65535),
  // Optional listener for /metrics and health (docs/adr/0015); unset: both stay on PORT.
  MANAGEMENT_PORT: z.coerce
    .number({ error: 'must be a port number' })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(65535, 'must be at most 65535')
    .optional(),
  MANAGEMENT_HOST: z.string().min(1).optional(),
  PUBLIC_URL: url.optional(),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  // A direct (session) connection for LISTEN and the migration lock when DATABASE_URL goes through PgBouncer.
  DATABASE_SESSION_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  DATABASE_POOL_SIZE: int(10, 1, 200),
  MIGRATIONS_RUN: bool(true),
  DATA_DIR: z.string().min(1).default('./.tessera'),
  EMBEDDED_POSTGRES_PORT: int(0, 0, 65535),
  ADMIN_API_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  KEY_ENCRYPTION_KEY: encryptionKey.optional(),
  KEY_ENCRYPTION_KEYS_PREVIOUS: csv.pipe(z.array(encryptionKey)).default([]),
  ACCESS_TOKEN_TTL: duration('600', 10, 86400),
  REFRESH_TOKEN_TTL: duration('14d', 60),
  REFRESH_FAMILY_MAX_LIFETIME: duration('90d', 60),
  REFRESH_REUSE_GRACE_SECONDS: int(5, 0, 60),
  DENYLIST_RELOAD_INTERVAL: duration('60', 1, 86400),
  REFRESH_PURGE_INTERVAL: duration('1h', 0, 7 * 86400),
  USED_JTI_PURGE_INTERVAL: duration('60', 0, 86400),
  SIGNING_ALGORITHM: z.enum(SIGNING_ALGORITHMS).default('RS256'),
  KEY_ROTATION_INTERVAL: duration('90d', 0),
  JWKS_MAX_AGE: duration('600', 0, 86400),
  KEY_PUBLISH_DELAY: durationText(0, 7 * 86400).optional(),
  KEY_CHECK_INTERVAL: duration('10', 1, 3600),
  // When NOTIFY does not reach this replica (self-test failed), revocations and key changes are polled this often.
  NOTIFY_FALLBACK_POLL_INTERVAL: duration('5', 1, 3600),
  DEFAULT_AUDIENCE: z.string().min(1).optional(),
  VERIFY_AUDIENCES: csv.optional(),
  CLOCK_TOLERANCE_SECONDS: int(30, 0, 300),
  // http:// trusted issuers and client jwksUris on loopback only, for tests; refused with NODE_ENV=production (docs/adr/0018).
  ALLOW_INSECURE_ISSUERS_FOR_TESTS: bool(false),
  // Internal addresses (loopback, private, link-local, CGNAT, …) tenant-steered fetches may reach anyway: CIDRs or addresses (docs/adr/0020).
  OUTBOUND_ALLOWED_NETWORKS: z
    .string()
    .default('')
    .transform((value, ctx) => {
      const networks = parseOutboundNetworks(value);
      if (typeof networks === 'string') {
        ctx.addIssue({ code: 'custom', message: networks });
        return z.NEVER;
      }
      return networks;
    }),
  FORWARD_AUTH_COOKIE: z
    .string()
    .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,200}$/, "must be a cookie name (letters, digits and !#$%&'*+.^_`|~-)")
    .optional(),
  FORWARD_AUTH_HEADERS: z
    .string()
    .default(DEFAULT_FORWARD_AUTH_HEADERS)
    .transform((value, ctx) => {
      try {
        return parseClaimHeaders(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
  FORWARD_AUTH_RULES_FILE: z.string().min(1).optional(),
  // Where the original request is read (docs/adr/0009); the default matches the README's nginx snippet.
  FORWARD_AUTH_SOURCE: z
    .string()
    .default(DEFAULT_FORWARD_AUTH_SOURCE)
    .transform((value, ctx) => {
      try {
        return parseForwardedSource(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
  MAX_REGISTERED_KEYS_PER_TENANT: int(20, 1, 1000),
  // Stored revocation state per tenant (README "Revocation limits"): every replica keeps it in memory.
  REVOCATION_MAX_SUBJECTS_PER_TENANT: int(10_000, 1, 1_000_000),
  REVOCATION_MAX_JTIS_PER_TENANT: int(10_000, 1, 1_000_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  BODY_LIMIT_BYTES: int(100 * 1024, 1024, 10 * 1024 * 1024),
  RATE_LIMIT_WINDOW_SECONDS: int(60, 1, 3600),
  RATE_LIMIT_PER_IP: int(600, 0, 10_000_000),
  RATE_LIMIT_PER_API_KEY: int(1200, 0, 10_000_000),
  RATE_LIMIT_CREDENTIALS_PER_IP: int(30, 0, 10_000_000),
  RATE_LIMIT_PUBLIC_PER_IP: int(6000, 0, 10_000_000),
  // false, a hop count, or the proxies' addresses/CIDRs (docs/adr/0009).
  TRUST_PROXY: z
    .string()
    .default('false')
    .transform((value, ctx) => {
      const parsed = parseTrustProxy(value);
      if ('error' in parsed) {
        ctx.addIssue({ code: 'custom', message: parsed.error });
        return z.NEVER;
      }
      return parsed.value;
    }),
  CLUSTER_WORKERS: int(1, 0, 64),
  // DPoP (RFC 9449, docs/adr/0019): server nonces on /oauth/token, /v1/tenants/:id/tokens and where tokens are used; proof window.
  DPOP_NONCE_REQUIRED: bool(false),
  DPOP_NONCE_LIFETIME: duration('300', 30, 3600),
  DPOP_PROOF_MAX_AGE: duration('60', 5, 600),
  // SIGTERM: /health/ready answers 503 and requests are still served for the drain, then in-flight ones get the timeout.
  SHUTDOWN_DRAIN_SECONDS: int(10, 0, 600),
  SHUTDOWN_TIMEOUT_SECONDS: int(15, 1, 600),
});

export type RawEnv = z.input<typeof envSchema>;
export type ParsedEnv = z.output<typeof envSchema>;
