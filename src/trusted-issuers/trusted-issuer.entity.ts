import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** Claim conditions of a trusted issuer: claim name (or a `/` path into nested claims) → exact value. */
export type ClaimConditions = Record<string, string | number | boolean>;

/**
 * An external issuer a tenant trusts to vouch for one of its clients (docs/adr/0018): a token
 * from `issuer` whose aud, sub and claims match authenticates as `clientId`, with `scopes` (or
 * the client's) at most.
 */
@Entity('trusted_issuers')
export class TrustedIssuerEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Column({ type: 'varchar', length: 1024 })
  issuer: string;

  /** Null: found through OpenID discovery at `issuer`/.well-known/openid-configuration. */
  @Column({ name: 'jwks_uri', type: 'varchar', length: 2048, nullable: true })
  jwksUri: string | null;

  @Column({ type: 'varchar', length: 1024 })
  audience: string;

  /** Exact `sub`, or a prefix ending in `*` (subject-pattern.ts). */
  @Column({ type: 'varchar', length: 1024 })
  subject: string;

  @Column({ type: 'jsonb', default: {} })
  claims: ClaimConditions;

  @Column({ name: 'client_id', type: 'varchar', length: 64 })
  clientId: string;

  /** Null: the client's scopes. */
  @Column({ type: 'text', array: true, nullable: true })
  scopes: string[] | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
