import type { OutboundNetwork } from '../common/http/outbound-address-policy';
import type { SigningAlgorithm } from './env.schema';
import type { ClaimHeader, ForwardAuthRule } from './forward-auth/forward-auth-config';
import type { ForwardedSource } from './forward-auth/forwarded-source';
import type { TrustProxy } from './trust-proxy';

/**
 * The validated, typed configuration. Built once at start-up by `loadConfig()`
 * and injected everywhere else; durations are whole seconds.
 */
export class AppConfig {
  nodeEnv: 'development' | 'production' | 'test';
  host: string;
  port: number;
  /** MANAGEMENT_PORT/HOST: /metrics (then off PORT) and health on a listener of their own; null when unset. */
  management: { port: number; host: string } | null;
  /** The issuer (`iss`) and base of every published URL; no trailing slash. */
  publicUrl: string;
  database: {
    /** Set when DATABASE_URL is given; otherwise the embedded engine is started. */
    url?: string;
    /** DATABASE_SESSION_URL: a direct connection for LISTEN and migrations (when `url` is a transaction pooler). */
    sessionUrl?: string;
    poolSize: number;
    migrationsRun: boolean;
    embeddedPort: number;
    /** Password of the embedded engine's superuser, kept in DATA_DIR/secrets.json. */
    embeddedPassword?: string;
  };
  dataDir: string;
  adminApiKey: string;
  /** Current AES-256-GCM key for private keys at rest. */
  keyEncryptionKey: Buffer;
  /** Older encryption keys, still accepted for decryption while rows are re-encrypted. */
  previousKeyEncryptionKeys: Buffer[];
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  refreshFamilyMaxLifetimeSeconds: number;
  refreshReuseGraceSeconds: number;
  /** Backstop: every replica reloads the revocation denylist from Postgres this often (NOTIFY is the fast path). */
  denylistReloadIntervalSeconds: number;
  /** How often each replica deletes refresh families that can no longer be used; 0 switches the job off. */
  refreshPurgeIntervalSeconds: number;
  /** How often each replica deletes expired single-use assertion and proof ids (jwt-bearer, client assertions, DPoP); 0 switches it off. */
  usedJtiPurgeIntervalSeconds: number;
  signingAlgorithm: SigningAlgorithm;
  /** 0 switches scheduled rotation off. */
  keyRotationIntervalSeconds: number;
  jwksMaxAgeSeconds: number;
  keyPublishDelaySeconds: number;
  /** How often each replica reloads the key set and runs due lifecycle transitions. */
  keyCheckIntervalSeconds: number;
  /** Poll interval for revocations and key changes while notifications do not arrive (docs/adr/0010). */
  notifyFallbackPollIntervalSeconds: number;
  defaultAudience: string;
  verifyAudiences: string[];
  clockToleranceSeconds: number;
  /** ALLOW_INSECURE_ISSUERS_FOR_TESTS: http:// trusted issuers and client jwksUris on loopback (never in production). */
  allowInsecureIssuersForTests: boolean;
  /** OUTBOUND_ALLOWED_NETWORKS: internal networks tenant-steered fetches may reach anyway (docs/adr/0020). */
  outboundAllowedNetworks: OutboundNetwork[];
  forwardAuth: {
    /** Cookie read by GET /v1/auth/verify when there is no Authorization header. */
    cookieName?: string;
    /** Claim → response header of GET /v1/auth/verify. */
    claimHeaders: ClaimHeader[];
    /** Scope rules by forwarded method and path; empty when FORWARD_AUTH_RULES_FILE is unset. */
    rules: ForwardAuthRule[];
    /** FORWARD_AUTH_SOURCE: the only headers the original request is read from. */
    source: ForwardedSource;
  };
  maxRegisteredKeysPerTenant: number;
  /** Subject cut-offs still in force a tenant may hold (REVOCATION_MAX_SUBJECTS_PER_TENANT). */
  revocationMaxSubjectsPerTenant: number;
  /** Revoked jtis still in force a tenant may hold (REVOCATION_MAX_JTIS_PER_TENANT). */
  revocationMaxJtisPerTenant: number;
  logLevel: string;
  bodyLimitBytes: number;
  rateLimit: {
    windowSeconds: number;
    /** 0 switches a limit off. */
    perIp: number;
    perApiKey: number;
    credentialsPerIp: number;
    publicPerIp: number;
  };
  /** TRUST_PROXY: false, a hop count, or the proxies' addresses/CIDRs (true: every hop). */
  trustProxy: TrustProxy;
  /** Worker processes sharing the port (Node cluster); 1 runs a single process. */
  clusterWorkers: number;
  dpop: {
    /** DPOP_NONCE_REQUIRED: every proof must carry a current server nonce (use_dpop_nonce otherwise). */
    nonceRequired: boolean;
    /** How long a server nonce is accepted (it rotates every half of this). */
    nonceLifetimeSeconds: number;
    /** How old a proof's iat may be; its jti is remembered as long. */
    proofMaxAgeSeconds: number;
  };
  shutdown: {
    /** After SIGTERM, seconds of serving with readiness at 503, so load balancers stop sending first. */
    drainSeconds: number;
    /** Then at most this long for in-flight requests, the pool and the embedded engine; past it the process exits 1. */
    timeoutSeconds: number;
  };

  /** Secret derived for a purpose (HKDF over the key-encryption key), e.g. refresh-token derivation. */
  derivedSecrets: { refreshToken: Buffer; dpopNonce: Buffer };
}
