import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/**
 * Single use of client assertions (RFC 7523 §3 (7)), for private_key_jwt clients (issuer = the
 * client id) and trusted issuers' tokens (issuer = the external issuer): the same shape as
 * jwt_bearer_jtis, one statement per use.
 */
@Injectable()
export class AssertionJtiRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Records (issuer, jti) as used until `expiresAt`; false when it is already in use. Of concurrent
   * requests with the same pair exactly one inserts (the primary key serialises them); a row whose
   * time has passed is taken over, so an entry the purge has not removed yet blocks nothing.
   */
  async consume(issuer: string, jti: string, expiresAt: Date, now: Date): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `INSERT INTO client_assertion_jtis (issuer, jti, expires_at) VALUES ($1, $2, $3)
       ON CONFLICT (issuer, jti) DO UPDATE SET expires_at = EXCLUDED.expires_at, created_at = now()
         WHERE client_assertion_jtis.expires_at <= $4
       RETURNING jti`,
      [issuer, jti, expiresAt, now],
    );
    return rows.length === 1;
  }

  async purgeExpired(now: Date): Promise<number> {
    const [, count] = (await this.dataSource.query(`DELETE FROM client_assertion_jtis WHERE expires_at <= $1`, [now])) as [
      unknown[],
      number,
    ];
    return count;
  }
}
