import { hkdfSync } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { AppConfig } from './app-config';
import { ConfigError } from './config-error';
import { decodeKey, envSchema } from './env.schema';
import { ForwardAuthConfigError, ForwardAuthRule, loadForwardAuthRules } from './forward-auth/forward-auth-config';
import { loadOrCreateSecrets, secretsFile } from './secrets';

export interface LoadedConfig {
  config: AppConfig;
  /** Messages to log once at start-up (generated secrets and the like). */
  warnings: string[];
}

const SECRET_VARIABLES = new Set([
  'ADMIN_API_KEY',
  'KEY_ENCRYPTION_KEY',
  'KEY_ENCRYPTION_KEYS_PREVIOUS',
  'DATABASE_URL',
  'DATABASE_SESSION_URL',
]);

/**
 * Validates the environment once. Throws ConfigError with one line per bad variable,
 * naming the variable and the rule; secret values are never echoed.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  // Empty strings count as unset, as in most twelve-factor tools.
  const input = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(input);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? 'environment');
      const got = SECRET_VARIABLES.has(name) || input[name] === undefined ? '' : ` (got "${String(input[name]).slice(0, 60)}")`;
      return `Invalid configuration: ${name} ${issue.message}${got}`;
    });
    throw new ConfigError(lines);
  }
  const e = parsed.data;
  const warnings: string[] = [];
  const dataDir = resolve(e.DATA_DIR);

  if (e.TRUST_PROXY === true) {
    warnings.push(
      'TRUST_PROXY=true takes the client IP from the left-most X-Forwarded-For entry, which the client writes: ' +
        "per-IP limits hold only if the proxy replaces the header; prefer a hop count or the proxies' addresses",
    );
  }
  const missing = (['ADMIN_API_KEY', 'KEY_ENCRYPTION_KEY'] as const).filter((name) => !e[name]);
  if (missing.length > 0 && e.NODE_ENV === 'production') {
    throw new ConfigError(missing.map((name) => `Invalid configuration: ${name} is required when NODE_ENV=production`));
  }
  if (e.ALLOW_INSECURE_ISSUERS_FOR_TESTS && e.NODE_ENV === 'production') {
    throw new ConfigError([
      'Invalid configuration: ALLOW_INSECURE_ISSUERS_FOR_TESTS cannot be true when NODE_ENV=production (it lets http:// issuers on loopback authenticate clients)',
    ]);
  }
  if (e.ALLOW_INSECURE_ISSUERS_FOR_TESTS)
    warnings.push(
      'ALLOW_INSECURE_ISSUERS_FOR_TESTS=true: http:// trusted issuers and client jwksUris on loopback are accepted (tests only)',
    );
  if (e.DATABASE_SESSION_URL && !e.DATABASE_URL)
    warnings.push('DATABASE_SESSION_URL is ignored without DATABASE_URL (the embedded engine needs no session URL)');
  const wanted = [...missing, ...(e.DATABASE_URL ? [] : (['EMBEDDED_POSTGRES_PASSWORD'] as const))];
  const { secrets, created } = loadOrCreateSecrets(dataDir, wanted);
  for (const name of created.filter((n) => n !== 'EMBEDDED_POSTGRES_PASSWORD')) {
    warnings.push(`${name} was not set: generated one and stored it in ${secretsFile(dataDir)} (set ${name} yourself in production)`);
  }

  const port = e.PORT;
  const publicUrl = (e.PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/+$/, '');
  const defaultAudience = e.DEFAULT_AUDIENCE ?? publicUrl;
  const keyEncryptionKey = decodeKey(e.KEY_ENCRYPTION_KEY ?? secrets.KEY_ENCRYPTION_KEY!)!;

  const config = Object.assign(new AppConfig(), {
    nodeEnv: e.NODE_ENV,
    host: e.HOST,
    management: e.MANAGEMENT_PORT === undefined ? null : { port: e.MANAGEMENT_PORT, host: e.MANAGEMENT_HOST ?? e.HOST },
    port,
    publicUrl,
    database: {
      url: e.DATABASE_URL,
      sessionUrl: e.DATABASE_URL ? e.DATABASE_SESSION_URL : undefined,
      poolSize: e.DATABASE_POOL_SIZE,
      migrationsRun: e.MIGRATIONS_RUN,
      embeddedPort: e.EMBEDDED_POSTGRES_PORT,
      embeddedPassword: secrets.EMBEDDED_POSTGRES_PASSWORD,
    },
    dataDir,
    adminApiKey: e.ADMIN_API_KEY ?? secrets.ADMIN_API_KEY!,
    keyEncryptionKey,
    previousKeyEncryptionKeys: e.KEY_ENCRYPTION_KEYS_PREVIOUS.map((k) => decodeKey(k)!),
    accessTokenTtlSeconds: e.ACCESS_TOKEN_TTL,
    refreshTokenTtlSeconds: e.REFRESH_TOKEN_TTL,
    refreshFamilyMaxLifetimeSeconds: e.REFRESH_FAMILY_MAX_LIFETIME,
    refreshReuseGraceSeconds: e.REFRESH_REUSE_GRACE_SECONDS,
    denylistReloadIntervalSeconds: e.DENYLIST_RELOAD_INTERVAL,
    refreshPurgeIntervalSeconds: e.REFRESH_PURGE_INTERVAL,
    usedJtiPurgeIntervalSeconds: e.USED_JTI_PURGE_INTERVAL,
    signingAlgorithm: e.SIGNING_ALGORITHM,
    keyRotationIntervalSeconds: e.KEY_ROTATION_INTERVAL,
    jwksMaxAgeSeconds: e.JWKS_MAX_AGE,
    // A replica may serve a JWKS up to one check interval old, and a verifier caches it for max-age.
    keyPublishDelaySeconds: e.KEY_PUBLISH_DELAY ?? e.JWKS_MAX_AGE + e.KEY_CHECK_INTERVAL,
    keyCheckIntervalSeconds: e.KEY_CHECK_INTERVAL,
    notifyFallbackPollIntervalSeconds: e.NOTIFY_FALLBACK_POLL_INTERVAL,
    defaultAudience,
    verifyAudiences: e.VERIFY_AUDIENCES?.length ? e.VERIFY_AUDIENCES : [defaultAudience],
    clockToleranceSeconds: e.CLOCK_TOLERANCE_SECONDS,
    allowInsecureIssuersForTests: e.ALLOW_INSECURE_ISSUERS_FOR_TESTS,
    outboundAllowedNetworks: e.OUTBOUND_ALLOWED_NETWORKS,
    forwardAuth: {
      cookieName: e.FORWARD_AUTH_COOKIE,
      claimHeaders: e.FORWARD_AUTH_HEADERS,
      rules: e.FORWARD_AUTH_RULES_FILE ? forwardAuthRules(e.FORWARD_AUTH_RULES_FILE) : [],
      source: e.FORWARD_AUTH_SOURCE,
    },
    maxRegisteredKeysPerTenant: e.MAX_REGISTERED_KEYS_PER_TENANT,
    revocationMaxSubjectsPerTenant: e.REVOCATION_MAX_SUBJECTS_PER_TENANT,
    revocationMaxJtisPerTenant: e.REVOCATION_MAX_JTIS_PER_TENANT,
    logLevel: e.LOG_LEVEL,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    rateLimit: {
      windowSeconds: e.RATE_LIMIT_WINDOW_SECONDS,
      perIp: e.RATE_LIMIT_PER_IP,
      perApiKey: e.RATE_LIMIT_PER_API_KEY,
      credentialsPerIp: e.RATE_LIMIT_CREDENTIALS_PER_IP,
      publicPerIp: e.RATE_LIMIT_PUBLIC_PER_IP,
    },
    trustProxy: e.TRUST_PROXY,
    // 0: one worker per core.
    clusterWorkers: e.CLUSTER_WORKERS === 0 ? availableParallelism() : e.CLUSTER_WORKERS,
    dpop: { nonceRequired: e.DPOP_NONCE_REQUIRED, nonceLifetimeSeconds: e.DPOP_NONCE_LIFETIME, proofMaxAgeSeconds: e.DPOP_PROOF_MAX_AGE },
    shutdown: { drainSeconds: e.SHUTDOWN_DRAIN_SECONDS, timeoutSeconds: e.SHUTDOWN_TIMEOUT_SECONDS },
    derivedSecrets: {
      refreshToken: Buffer.from(hkdfSync('sha256', keyEncryptionKey, 'tessera', 'refresh-token-derivation', 32)),
      // Every replica derives the same nonce key, so a nonce one issued is accepted by all (no shared state).
      dpopNonce: Buffer.from(hkdfSync('sha256', keyEncryptionKey, 'tessera', 'dpop-nonce', 32)),
    },
  } satisfies AppConfig);
  return { config, warnings };
}

function forwardAuthRules(file: string): ForwardAuthRule[] {
  try {
    return loadForwardAuthRules(resolve(file));
  } catch (error) {
    if (error instanceof ForwardAuthConfigError) throw new ConfigError([`Invalid configuration: FORWARD_AUTH_RULES_FILE ${error.message}`]);
    throw error;
  }
}
