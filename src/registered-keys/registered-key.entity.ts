import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { PublicJwk, RegisteredKeyAlgorithm } from './public-key';

@Entity('registered_keys')
export class RegisteredKeyEntity {
  /**
   * RFC 7638 thumbprint of the key. The row is kept after a delete. At most one tenant holds a
   * kid (the row not displaced), and at most one ever proved it (docs/adr/0012-registered-key-proof.md).
   */
  @PrimaryColumn({ type: 'varchar', length: 64 })
  kid: string;

  @PrimaryColumn({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Column({ type: 'varchar', length: 100 })
  label: string;

  @Column({ type: 'varchar', length: 10 })
  algorithm: RegisteredKeyAlgorithm;

  /** Public members only (a CHECK constraint refuses private ones). */
  @Column({ name: 'public_jwk', type: 'jsonb' })
  publicJwk: PublicJwk;

  @Column({ type: 'varchar', length: 95 })
  fingerprint: string;

  @Column({ name: 'is_active', type: 'boolean', default: true })
  isActive: boolean;

  /** The registration carried a valid proof of possession of the private key. */
  @Column({ type: 'boolean', default: false })
  proven: boolean;

  /** When another tenant's proven registration of this key took it over (also deleted then). */
  @Column({ name: 'displaced_at', type: 'timestamptz', nullable: true })
  displacedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;

  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true })
  deletedAt: Date | null;
}
