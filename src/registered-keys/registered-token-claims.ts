import { Injectable } from '@nestjs/common';
import { TokenError } from '@tessera/nest-guard';
import { ClientsService } from '../clients/clients.service';
import { Clock } from '../common/clock';

/** How long a replica reuses an answer to "is this client the tenant's?" (a deleted client is refused within it). */
const OWNERSHIP_CACHE_MS = 1000;
const OWNERSHIP_CACHE_MAX = 10_000;
/**
 * Tessera's client ids, in any letter case and after any leading white space: an upstream comparing them loosely must
 * not be fooled either, and HTTP drops the spaces around a header value, so " tcl_…" reached x-client-id as "tcl_…".
 */
const TESSERA_CLIENT_ID = /^\s*tcl_/i;

/**
 * What a token signed by a tenant's registered key may say about parties other than its own
 * tenant (docs/adr/0013-registered-token-trust.md). The tenant's backend chooses `sub` and
 * `scope` freely: they mean something only within the key's tenant (`x-tenant-id`). A
 * `client_id` naming a Tessera client (`tcl_…`) is different: it names one party, globally,
 * and upstreams key on it; it must be a live client of the key's own tenant. Any other
 * `client_id` is the tenant's own vocabulary and passes through.
 */
@Injectable()
export class RegisteredTokenClaims {
  private readonly owned = new Map<string, { isOwn: boolean; untilMs: number }>();

  constructor(
    private readonly clients: ClientsService,
    private readonly clock: Clock,
  ) {}

  /** Throws TokenError (INVALID_ISSUER, or MALFORMED_TOKEN for a non-string) when client_id breaks the rule above. */
  async check(tenantId: string, claims: Record<string, unknown>): Promise<void> {
    const clientId = claims.client_id;
    if (clientId === undefined) return;
    // RFC 9068 §2.2: a string; an array would reach upstreams as several ids joined by spaces.
    if (typeof clientId !== 'string' || clientId.length === 0)
      throw new TokenError('MALFORMED_TOKEN', 'Token client_id must be a non-empty string');
    if (!TESSERA_CLIENT_ID.test(clientId)) return;
    if (!(await this.isOwnClient(tenantId, clientId))) {
      throw new TokenError('INVALID_ISSUER', "Token client_id names a Tessera client that is not one of the key's tenant's clients");
    }
  }

  private async isOwnClient(tenantId: string, clientId: string): Promise<boolean> {
    const key = `${tenantId} ${clientId}`;
    const nowMs = this.clock.now().getTime();
    const cached = this.owned.get(key);
    if (cached && cached.untilMs > nowMs) return cached.isOwn;
    const isOwn = (await this.clients.findForTenant(tenantId, clientId)) !== undefined;
    if (this.owned.size >= OWNERSHIP_CACHE_MAX) this.owned.clear();
    this.owned.set(key, { isOwn, untilMs: nowMs + OWNERSHIP_CACHE_MS });
    return isOwn;
  }
}
