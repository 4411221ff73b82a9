import { Injectable } from '@nestjs/common';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-code';
import { AuditEventEntity } from './audit-event.entity';
import { AuditEventFilter, AuditRepository } from './audit.repository';
import { AuditEventResponseDto } from './dto/audit-event-response.dto';

export interface AuditEvent {
  tenantId: string | null;
  /** Dotted event name, e.g. `refresh_token.reuse_detected`, `subject.revoked`. */
  type: string;
  /** Who did it: `admin`, `api-key:<id>`, `client:<clientId>`, `system`. Never a credential. */
  actor: string;
  subject?: string;
  details?: Record<string, unknown>;
  requestId?: string;
}

/**
 * Member names that would hold a credential. `details` is meant for ids and reasons; a
 * member with one of these names is dropped rather than stored, as a last line of defence.
 */
const CREDENTIAL_MEMBERS = new Set([
  'token',
  'accesstoken',
  'access_token',
  'refreshtoken',
  'refresh_token',
  'idtoken',
  'id_token',
  'assertion',
  'secret',
  'clientsecret',
  'client_secret',
  'password',
  'key',
  'apikey',
  'api_key',
  'privatekey',
  'private_key',
]);

export function withoutCredentials(details: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(details)) {
    if (CREDENTIAL_MEMBERS.has(name.toLowerCase())) continue;
    out[name] =
      value !== null && typeof value === 'object' && !Array.isArray(value) ? withoutCredentials(value as Record<string, unknown>) : value;
  }
  return out;
}

/** Writes security events to the append-only `audit_events` table. */
@Injectable()
export class AuditService {
  constructor(private readonly repository: AuditRepository) {}

  async record(event: AuditEvent): Promise<void> {
    await this.repository.append({
      tenantId: event.tenantId,
      type: event.type,
      actor: event.actor.slice(0, 200),
      subject: event.subject ?? null,
      details: withoutCredentials(event.details ?? {}),
      requestId: event.requestId?.slice(0, 64) ?? null,
    });
  }

  /** A tenant's events, newest first; 404 when no such tenant ever existed (a deleted tenant's trail stays readable). */
  async listForTenant(tenantId: string, filter: Omit<AuditEventFilter, 'tenantId'>): Promise<AuditEventResponseDto[]> {
    const rows = await this.repository.list({ ...filter, tenantId });
    if (rows.length === 0 && !(await this.repository.tenantExists(tenantId)))
      throw new AppException(ErrorCode.NOT_FOUND, 'Tenant not found');
    return rows.map((e) => this.map(e));
  }

  /** Every event (also those outside any tenant), newest first: for the admin. */
  async list(filter: AuditEventFilter): Promise<AuditEventResponseDto[]> {
    return (await this.repository.list(filter)).map((e) => this.map(e));
  }

  private map(e: AuditEventEntity): AuditEventResponseDto {
    return {
      id: e.id,
      tenantId: e.tenantId,
      type: e.type,
      actor: e.actor,
      subject: e.subject,
      details: e.details,
      requestId: e.requestId,
      createdAt: e.createdAt.toISOString(),
    };
  }
}
