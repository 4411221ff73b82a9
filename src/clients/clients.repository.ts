import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, Repository } from 'typeorm';
import type { ClientJwk } from './client-jwks';
import { ClientAuthMethod, ClientEntity } from './client.entity';

export type NewClient = Pick<
  ClientEntity,
  'clientId' | 'tenantId' | 'name' | 'scopes' | 'secretHash' | 'tokenEndpointAuthMethod' | 'jwks' | 'jwksUri' | 'dpopBoundAccessTokens'
>;

/** A live client with what authentication needs, including its tenant's state. */
export interface ClientCredential {
  clientId: string;
  tenantId: string;
  scopes: string[];
  /** Null for a private_key_jwt client: no secret can authenticate it. */
  secretHash: Buffer | null;
  tokenEndpointAuthMethod: ClientAuthMethod;
  jwks: { keys: ClientJwk[] } | null;
  jwksUri: string | null;
  /** Its tokens are DPoP-bound only (RFC 9449 §5.2). */
  dpopBoundAccessTokens: boolean;
}

@Injectable()
export class ClientsRepository {
  constructor(@InjectRepository(ClientEntity) private readonly repo: Repository<ClientEntity>) {}

  /** insert(), not save(): save() would look the id up first and turn a duplicate into an UPDATE. */
  async insert(values: NewClient): Promise<ClientEntity> {
    await this.repo.insert(values);
    return this.repo.findOneByOrFail({ clientId: values.clientId });
  }

  listLive(tenantId: string, limit: number, offset: number): Promise<ClientEntity[]> {
    return this.repo.find({
      where: { tenantId, deletedAt: IsNull() },
      order: { createdAt: 'ASC', clientId: 'ASC' },
      take: limit,
      skip: offset,
    });
  }

  /** Soft-deletes a live client of that tenant; false when there was none. */
  async softDelete(tenantId: string, clientId: string): Promise<boolean> {
    const result = await this.repo.update({ tenantId, clientId, deletedAt: IsNull() }, { deletedAt: () => 'now()' });
    return (result.affected ?? 0) > 0;
  }

  /** A live client whose tenant is live and enabled, by id (any tenant), or undefined. */
  async findUsable(clientId: string, tenantId?: string): Promise<ClientCredential | undefined> {
    const rows: {
      client_id: string;
      tenant_id: string;
      scopes: string[];
      secret_hash: Buffer | null;
      token_endpoint_auth_method: ClientAuthMethod;
      jwks: { keys: ClientJwk[] } | null;
      jwks_uri: string | null;
      dpop_bound_access_tokens: boolean;
    }[] = await this.repo.query(
      `SELECT c.client_id, c.tenant_id, c.scopes, c.secret_hash, c.token_endpoint_auth_method, c.jwks, c.jwks_uri, c.dpop_bound_access_tokens
         FROM clients c JOIN tenants t ON t.id = c.tenant_id
        WHERE c.client_id = $1 AND c.deleted_at IS NULL AND t.deleted_at IS NULL AND NOT t.is_disabled
          AND ($2::uuid IS NULL OR c.tenant_id = $2::uuid)`,
      [clientId, tenantId ?? null],
    );
    const row = rows[0];
    return (
      row && {
        clientId: row.client_id,
        tenantId: row.tenant_id,
        scopes: row.scopes,
        secretHash: row.secret_hash,
        tokenEndpointAuthMethod: row.token_endpoint_auth_method,
        jwks: row.jwks,
        jwksUri: row.jwks_uri,
        dpopBoundAccessTokens: row.dpop_bound_access_tokens === true,
      }
    );
  }
}
