import { Injectable, Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { Clock } from '../common/clock';
import { issuerUrlProblem } from '../common/http/issuer-url';
import { OUTBOUND_MAX_BYTES, OutboundHttp } from '../common/http/outbound-http';
import { outboundUrlProblem } from '../common/http/outbound-url';
import { AppConfig } from '../config/app-config';
import { JwksUnavailableError } from './remote-key-set';

/** A discovered jwks_uri is used this long before the document is read again. */
const DISCOVERY_REFRESH_MS = 60 * 60_000;
/** After a failed read, the next attempt waits this long (the last known jwks_uri keeps working). */
const DISCOVERY_RETRY_MS = 10_000;
const DISCOVERY_TIMEOUT_MS = 5000;

interface Discovered {
  jwksUri?: string;
  fetchedAtMs: number;
  retryAtMs: number;
  pending?: Promise<void>;
}

/**
 * The jwks_uri of a trusted issuer registered without one: OpenID Connect Discovery 1.0 §4
 * (`<issuer>/.well-known/openid-configuration`, as Kubernetes' service-account issuer and GitHub
 * Actions serve it). The document's `issuer` must equal the issuer (§4.3) and its jwks_uri must
 * pass the same https rule as the issuer. The document is read through OutboundHttp (internal
 * addresses refused at connect time, no redirects, OUTBOUND_MAX_BYTES; docs/adr/0020).
 */
@Injectable()
export class IssuerDiscovery {
  private readonly logger = new Logger('IssuerDiscovery');
  private readonly documents = new LRUCache<string, Discovered>({ max: 1000 });

  constructor(
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly outbound: OutboundHttp,
  ) {}

  /** The issuer's jwks_uri; JwksUnavailableError when it was never read successfully. */
  async jwksUri(issuer: string): Promise<string> {
    const now = this.clock.now().getTime();
    let entry = this.documents.get(issuer);
    if (!entry) {
      entry = { fetchedAtMs: Number.NEGATIVE_INFINITY, retryAtMs: Number.NEGATIVE_INFINITY };
      this.documents.set(issuer, entry);
    }
    if (now - entry.fetchedAtMs >= DISCOVERY_REFRESH_MS && now >= entry.retryAtMs) {
      const target = entry;
      entry.pending ??= this.read(issuer)
        .then(
          (jwksUri) => {
            target.jwksUri = jwksUri;
            target.fetchedAtMs = now;
          },
          (error: unknown) => {
            target.retryAtMs = now + DISCOVERY_RETRY_MS;
            this.logger.warn(`OpenID discovery for ${issuer} failed: ${String((error as Error)?.message ?? error)}`);
          },
        )
        .finally(() => (target.pending = undefined));
    }
    if (entry.pending) await entry.pending;
    if (!entry.jwksUri) throw new JwksUnavailableError('The issuer’s OpenID discovery document cannot be read');
    return entry.jwksUri;
  }

  private async read(issuer: string): Promise<string> {
    const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const response = await this.outbound.get(url, { timeoutMs: DISCOVERY_TIMEOUT_MS, maxBytes: OUTBOUND_MAX_BYTES });
    if (response.status < 200 || response.status > 299) throw new Error(`answered ${response.status}`);
    const document = JSON.parse(response.body) as { issuer?: unknown; jwks_uri?: unknown };
    if (document?.issuer !== issuer) throw new Error('the document names another issuer');
    if (typeof document.jwks_uri !== 'string') throw new Error('the document has no jwks_uri');
    const problem =
      issuerUrlProblem(document.jwks_uri, 'jwks_uri', this.config.allowInsecureIssuersForTests) ??
      outboundUrlProblem(document.jwks_uri, 'jwks_uri', this.outbound);
    if (problem) throw new Error(problem);
    return document.jwks_uri;
  }
}
