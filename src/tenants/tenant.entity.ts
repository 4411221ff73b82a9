import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

@Entity('tenants')
export class TenantEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  @Column({ name: 'is_disabled', type: 'boolean', default: false })
  isDisabled: boolean;

  @Column({ name: 'access_token_max_ttl', type: 'integer', default: 600 })
  accessTokenMaxTtl: number;

  @Column({ name: 'registered_token_max_ttl', type: 'integer', default: 600 })
  registeredTokenMaxTtl: number;

  /** Every token issued for this tenant must be DPoP-bound (RFC 9449): a request without a proof is refused. */
  @Column({ name: 'require_dpop', type: 'boolean', default: false })
  requireDpop: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;

  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true })
  deletedAt: Date | null;
}
