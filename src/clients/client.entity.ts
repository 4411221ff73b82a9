import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { ClientJwk } from './client-jwks';

export const CLIENT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const;
export type ClientAuthMethod = (typeof CLIENT_AUTH_METHODS)[number];

@Entity('clients')
export class ClientEntity {
  /** `tcl_` + 24 hex characters; unique for good (the row stays after a delete). */
  @PrimaryColumn({ name: 'client_id', type: 'varchar', length: 64 })
  clientId: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  @Column({ type: 'text', array: true })
  scopes: string[];

  /** SHA-256 of the secret; the secret itself is never stored. Null for private_key_jwt clients, which have none. */
  @Column({ name: 'secret_hash', type: 'bytea', nullable: true })
  secretHash: Buffer | null;

  @Column({ name: 'token_endpoint_auth_method', type: 'varchar', length: 32, default: 'client_secret_basic' })
  tokenEndpointAuthMethod: ClientAuthMethod;

  /** private_key_jwt: the client's public keys (checked and pinned, client-jwks.ts), or */
  @Column({ type: 'jsonb', nullable: true })
  jwks: { keys: ClientJwk[] } | null;

  /** private_key_jwt: where its keys are published (https). */
  @Column({ name: 'jwks_uri', type: 'varchar', length: 2048, nullable: true })
  jwksUri: string | null;

  /** RFC 9449 §5.2 `dpop_bound_access_tokens`: a token request of this client without a DPoP proof is refused. */
  @Column({ name: 'dpop_bound_access_tokens', type: 'boolean', default: false })
  dpopBoundAccessTokens: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true })
  deletedAt: Date | null;
}
