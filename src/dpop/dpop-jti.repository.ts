import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** The only code that touches dpop_proof_jtis: single use of DPoP proof ids on every replica (RFC 9449 §11.1). */
@Injectable()
export class DpopJtiRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Records (jkt, jti) as used until `expiresAt`; false when it already was. One statement: of
   * concurrent requests with the same proof, on any replica, exactly one inserts (the primary key
   * serialises them).
   */
  async useOnce(jkt: string, jti: string, expiresAt: Date): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `INSERT INTO dpop_proof_jtis (jkt, jti, expires_at) VALUES ($1, $2, $3) ON CONFLICT (jkt, jti) DO NOTHING RETURNING jti`,
      [jkt, jti, expiresAt],
    );
    return rows.length === 1;
  }

  /** Removes ids whose proofs can no longer be accepted anyway; idempotent, every replica may run it. */
  async purgeExpired(now: Date): Promise<number> {
    const [, count] = (await this.dataSource.query(`DELETE FROM dpop_proof_jtis WHERE expires_at <= $1`, [now])) as [unknown[], number];
    return count;
  }
}
