import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { FindOptionsWhere, Repository } from 'typeorm';
import { AuditEventEntity } from './audit-event.entity';

export type NewAuditEvent = Pick<AuditEventEntity, 'tenantId' | 'type' | 'actor' | 'subject' | 'details' | 'requestId'>;

export interface AuditEventFilter {
  tenantId?: string;
  type?: string;
  limit: number;
  offset: number;
}

@Injectable()
export class AuditRepository {
  constructor(@InjectRepository(AuditEventEntity) private readonly repo: Repository<AuditEventEntity>) {}

  /** Append only: there is no update or delete method, and triggers refuse UPDATE, DELETE and TRUNCATE (migration 1764000008000). */
  async append(event: NewAuditEvent): Promise<void> {
    await this.repo.insert(event as Parameters<Repository<AuditEventEntity>['insert']>[0]);
  }

  /** Newest first; `id` breaks ties between events of one transaction (index audit_events_tenant_idx, read backwards). */
  list(filter: AuditEventFilter): Promise<AuditEventEntity[]> {
    const where: FindOptionsWhere<AuditEventEntity> = {};
    if (filter.tenantId !== undefined) where.tenantId = filter.tenantId;
    if (filter.type !== undefined) where.type = filter.type;
    return this.repo.find({ where, order: { createdAt: 'DESC', id: 'DESC' }, take: filter.limit, skip: filter.offset });
  }

  /**
   * Whether a tenant row exists, deleted or not: the trail of a deleted tenant stays readable
   * (TenantsService only answers for live tenants, hence this one read of `tenants`).
   */
  async tenantExists(tenantId: string): Promise<boolean> {
    const rows: unknown[] = await this.repo.manager.query(`SELECT 1 FROM tenants WHERE id = $1`, [tenantId]);
    return rows.length > 0;
  }
}
