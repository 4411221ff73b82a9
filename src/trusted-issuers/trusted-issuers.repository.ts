import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { TrustedIssuerEntity } from './trusted-issuer.entity';

export type NewTrustedIssuer = Pick<
  TrustedIssuerEntity,
  'tenantId' | 'issuer' | 'jwksUri' | 'audience' | 'subject' | 'claims' | 'clientId' | 'scopes'
>;

/** A trusted issuer entry that can authenticate now: its tenant is live and enabled, its client live. */
export interface UsableTrustedIssuer extends TrustedIssuerEntity {
  /** The client's scopes now (the entry's scopes are intersected with them). */
  clientScopes: string[];
}

@Injectable()
export class TrustedIssuersRepository {
  constructor(@InjectRepository(TrustedIssuerEntity) private readonly repo: Repository<TrustedIssuerEntity>) {}

  async insert(values: NewTrustedIssuer): Promise<TrustedIssuerEntity> {
    const result = await this.repo.insert(values);
    return this.repo.findOneByOrFail({ id: result.identifiers[0].id as string });
  }

  list(tenantId: string, limit: number, offset: number): Promise<TrustedIssuerEntity[]> {
    return this.repo.find({ where: { tenantId }, order: { createdAt: 'ASC', id: 'ASC' }, take: limit, skip: offset });
  }

  findOne(tenantId: string, id: string): Promise<TrustedIssuerEntity | null> {
    return this.repo.findOneBy({ tenantId, id });
  }

  countForTenant(tenantId: string): Promise<number> {
    return this.repo.countBy({ tenantId });
  }

  /** Deletes the entry; false when that tenant has none with this id. */
  async delete(tenantId: string, id: string): Promise<boolean> {
    const result = await this.repo.delete({ tenantId, id });
    return (result.affected ?? 0) > 0;
  }

  /**
   * Every entry for `issuer` that can authenticate now, across tenants (a token names its issuer,
   * not a tenant), optionally only those acting as `clientId`. Read on every authentication, so
   * deleting an entry, its client or disabling its tenant takes effect on the next request.
   */
  async findUsableByIssuer(issuer: string, clientId: string | undefined): Promise<UsableTrustedIssuer[]> {
    const rows: Record<string, unknown>[] = await this.repo.query(
      `SELECT ti.id, ti.tenant_id, ti.issuer, ti.jwks_uri, ti.audience, ti.subject, ti.claims, ti.client_id, ti.scopes, ti.created_at,
              c.scopes AS client_scopes
         FROM trusted_issuers ti
         JOIN clients c ON c.client_id = ti.client_id AND c.tenant_id = ti.tenant_id AND c.deleted_at IS NULL
         JOIN tenants t ON t.id = ti.tenant_id AND t.deleted_at IS NULL AND NOT t.is_disabled
        WHERE ti.issuer = $1 AND ($2::varchar IS NULL OR ti.client_id = $2::varchar)
        ORDER BY ti.created_at, ti.id
        LIMIT 100`,
      [issuer, clientId ?? null],
    );
    return rows.map((r) => ({
      id: r.id as string,
      tenantId: r.tenant_id as string,
      issuer: r.issuer as string,
      jwksUri: r.jwks_uri as string | null,
      audience: r.audience as string,
      subject: r.subject as string,
      claims: r.claims as TrustedIssuerEntity['claims'],
      clientId: r.client_id as string,
      scopes: r.scopes as string[] | null,
      createdAt: r.created_at as Date,
      clientScopes: r.client_scopes as string[],
    }));
  }

  /** Whether any tenant trusts `issuer` (decides which path a jwt-bearer assertion takes). */
  async isKnownIssuer(issuer: string): Promise<boolean> {
    const rows: unknown[] = await this.repo.query(`SELECT 1 FROM trusted_issuers WHERE issuer = $1 LIMIT 1`, [issuer]);
    return rows.length > 0;
  }
}
