import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { PublicJwk } from '../common/crypto/jwk';
import type { SigningAlgorithm } from '../config/env.schema';
import type { EncryptedPrivateKey } from './key-encryption';

export type SigningKeyStatus = 'pending' | 'active' | 'retiring' | 'retired';

export interface SigningKeyRecord {
  kid: string;
  algorithm: SigningAlgorithm;
  status: SigningKeyStatus;
  publicJwk: PublicJwk;
  encrypted: EncryptedPrivateKey;
  createdAt: Date;
  activatesAt: Date;
  activatedAt: Date | null;
  retiringAt: Date | null;
  retireAt: Date | null;
  retiredAt: Date | null;
}

export type NewSigningKey = Pick<
  SigningKeyRecord,
  'kid' | 'algorithm' | 'status' | 'publicJwk' | 'encrypted' | 'createdAt' | 'activatesAt'
>;

interface Row {
  kid: string;
  algorithm: SigningAlgorithm;
  status: SigningKeyStatus;
  public_jwk: PublicJwk;
  private_key_ciphertext: Buffer;
  private_key_iv: Buffer;
  private_key_tag: Buffer;
  kek_id: string;
  created_at: Date;
  activates_at: Date;
  activated_at: Date | null;
  retiring_at: Date | null;
  retire_at: Date | null;
  retired_at: Date | null;
}

/** One lock for every change to the key set, so that one replica at a time rotates. */
const LIFECYCLE_LOCK = `hashtextextended('tessera:signing-keys', 0)`;
export const KEYS_CHANNEL = 'tessera_signing_keys';

/**
 * The signing_keys table. Times come from the caller (the injected Clock), never from now(),
 * so the lifecycle can be tested by moving the clock.
 */
@Injectable()
export class SigningKeysRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Pending, active and retiring keys: what the JWKS publishes. */
  async listPublished(): Promise<SigningKeyRecord[]> {
    const rows: Row[] = await this.dataSource.query(`SELECT * FROM signing_keys WHERE status <> 'retired' ORDER BY created_at, kid`);
    return rows.map(toRecord);
  }

  /** Every key, newest first (metadata for the admin list; the caller drops the ciphertext). */
  async listAll(limit: number, offset: number): Promise<SigningKeyRecord[]> {
    const rows: Row[] = await this.dataSource.query(`SELECT * FROM signing_keys ORDER BY created_at DESC, kid LIMIT $1 OFFSET $2`, [
      limit,
      offset,
    ]);
    return rows.map(toRecord);
  }

  /**
   * Runs `work` in one transaction holding the lifecycle advisory lock. With `wait: false`
   * it gives up at once (undefined) when another replica holds the lock.
   */
  async withLifecycleLock<T>(wait: boolean, work: (tx: SigningKeysTransaction) => Promise<T>): Promise<T | undefined> {
    return this.dataSource.transaction(async (m) => {
      if (wait) {
        await m.query(`SELECT pg_advisory_xact_lock(${LIFECYCLE_LOCK})`);
      } else {
        const [{ locked }] = await m.query(`SELECT pg_try_advisory_xact_lock(${LIFECYCLE_LOCK}) AS locked`);
        if (!locked) return undefined;
      }
      return work(new SigningKeysTransaction(m));
    });
  }
}

/** The statements of a lifecycle change, inside the locked transaction. */
export class SigningKeysTransaction {
  private changed = false;

  constructor(private readonly m: EntityManager) {}

  async listPublished(): Promise<SigningKeyRecord[]> {
    const rows: Row[] = await this.m.query(`SELECT * FROM signing_keys WHERE status <> 'retired' ORDER BY created_at, kid`);
    return rows.map(toRecord);
  }

  /** The longest access-token lifetime any tenant may ask for, in seconds. */
  async longestTenantTokenTtl(): Promise<number> {
    const [{ ttl }] = await this.m.query(`SELECT COALESCE(max(access_token_max_ttl), 0)::int AS ttl FROM tenants`);
    return ttl;
  }

  async insert(key: NewSigningKey): Promise<void> {
    const e = key.encrypted;
    const activatedAt = key.status === 'active' ? key.activatesAt : null;
    await this.m.query(
      `INSERT INTO signing_keys (kid, algorithm, status, public_jwk, private_key_ciphertext, private_key_iv, private_key_tag, kek_id, created_at, activates_at, activated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        key.kid,
        key.algorithm,
        key.status,
        JSON.stringify(key.publicJwk),
        e.ciphertext,
        e.iv,
        e.tag,
        e.kekId,
        key.createdAt,
        key.activatesAt,
        activatedAt,
      ],
    );
    await this.notify();
  }

  /** retiring → retired once every token the key signed has expired. */
  async retireDue(now: Date): Promise<string[]> {
    const [rows] = await this.m.query(
      `UPDATE signing_keys SET status = 'retired', retired_at = $1 WHERE status = 'retiring' AND retire_at <= $1 RETURNING kid`,
      [now],
    );
    const kids = (rows as { kid: string }[]).map((r) => r.kid);
    if (kids.length > 0) await this.notify();
    return kids;
  }

  /**
   * pending → active; every other active key → retiring until `retireAt`. The old key leaves
   * `active` first so the one-active-per-algorithm index never sees two.
   */
  async activate(kid: string, now: Date, retireAt: Date): Promise<string[]> {
    const [rows] = await this.m.query(
      `UPDATE signing_keys SET status = 'retiring', retiring_at = $1, retire_at = $2 WHERE status = 'active' AND kid <> $3 RETURNING kid`,
      [now, retireAt, kid],
    );
    await this.m.query(`UPDATE signing_keys SET status = 'active', activated_at = $1 WHERE kid = $2 AND status = 'pending'`, [now, kid]);
    await this.notify();
    return (rows as { kid: string }[]).map((r) => r.kid);
  }

  /** Emergency: active and pending keys leave the JWKS at once; their tokens stop verifying. */
  async retireSigningKeysNow(now: Date): Promise<string[]> {
    const [rows] = await this.m.query(
      `UPDATE signing_keys SET status = 'retired', retired_at = $1 WHERE status IN ('active', 'pending') RETURNING kid`,
      [now],
    );
    await this.notify();
    return (rows as { kid: string }[]).map((r) => r.kid);
  }

  async reencrypt(kid: string, encrypted: EncryptedPrivateKey): Promise<void> {
    await this.m.query(
      `UPDATE signing_keys SET private_key_ciphertext = $2, private_key_iv = $3, private_key_tag = $4, kek_id = $5 WHERE kid = $1`,
      [kid, encrypted.ciphertext, encrypted.iv, encrypted.tag, encrypted.kekId],
    );
  }

  /** Tells every replica (LISTEN) that the key set changed; delivered at commit. */
  private async notify(): Promise<void> {
    if (this.changed) return;
    this.changed = true;
    await this.m.query(`SELECT pg_notify('${KEYS_CHANNEL}', 'changed')`);
  }
}

function toRecord(r: Row): SigningKeyRecord {
  return {
    kid: r.kid,
    algorithm: r.algorithm,
    status: r.status,
    publicJwk: r.public_jwk,
    encrypted: { ciphertext: r.private_key_ciphertext, iv: r.private_key_iv, tag: r.private_key_tag, kekId: r.kek_id },
    createdAt: r.created_at,
    activatesAt: r.activates_at,
    activatedAt: r.activated_at,
    retiringAt: r.retiring_at,
    retireAt: r.retire_at,
    retiredAt: r.retired_at,
  };
}
