import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** Single use of jwt-bearer assertion ids (RFC 7523 §3 (7)); fosite keeps the same in its own `storage.go`. */
@Injectable()
export class JwtBearerJtiRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Records the jti as used until `expiresAt`; false when it is already in use. One statement:
   * of concurrent requests with the same jti, exactly one inserts (the primary key serialises
   * them). A row whose time has passed is taken over, so an expired entry never blocks a jti
   * that the purge has not removed yet.
   */
  async consume(tenantId: string, jti: string, kid: string, expiresAt: Date, now: Date): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `INSERT INTO jwt_bearer_jtis (tenant_id, jti, kid, expires_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (tenant_id, jti) DO UPDATE SET kid = EXCLUDED.kid, expires_at = EXCLUDED.expires_at, created_at = now()
         WHERE jwt_bearer_jtis.expires_at <= $5
       RETURNING jti`,
      [tenantId, jti, kid, expiresAt, now],
    );
    return rows.length === 1;
  }

  /** Removes rows whose assertions have expired; returns how many. */
  async purgeExpired(now: Date): Promise<number> {
    const [, count] = (await this.dataSource.query(`DELETE FROM jwt_bearer_jtis WHERE expires_at <= $1`, [now])) as [unknown[], number];
    return count;
  }
}
