import { createCipheriv, createDecipheriv, createHash, createPrivateKey, KeyObject, randomBytes } from 'node:crypto';

/** A private key as stored: AES-256-GCM over its PKCS#8 DER, bound to its kid as associated data. */
export interface EncryptedPrivateKey {
  ciphertext: Buffer;
  iv: Buffer;
  tag: Buffer;
  /** Which key-encryption key wrote it (see kekId). */
  kekId: string;
}

/** Thrown when no configured key-encryption key opens a stored private key. Never carries key material. */
export class KeyDecryptionError extends Error {
  override readonly name = 'KeyDecryptionError';
}

/**
 * A short public name for a key-encryption key (SHA-256 of a label and the key, 16 hex
 * characters), stored beside each ciphertext so that start-up can tell which configured
 * key opens it, and a KEY_ENCRYPTION_KEY change can re-encrypt rows written under the old one.
 */
export function kekId(kek: Buffer): string {
  return createHash('sha256').update('tessera-kek-id\0').update(kek).digest('hex').slice(0, 16);
}

export class KeyEncryption {
  private readonly current: { id: string; key: Buffer };
  private readonly byId: Map<string, Buffer>;

  constructor(current: Buffer, previous: Buffer[] = []) {
    this.current = { id: kekId(current), key: current };
    this.byId = new Map([...previous, current].map((k) => [kekId(k), k]));
  }

  get currentKekId(): string {
    return this.current.id;
  }

  encrypt(kid: string, privateKey: KeyObject): EncryptedPrivateKey {
    // 96-bit random IV (NIST SP 800-38D §8.2.2); a few keys per KEK, far from the 2^32 bound.
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    cipher.setAAD(Buffer.from(kid, 'utf8'));
    const der = privateKey.export({ type: 'pkcs8', format: 'der' });
    const ciphertext = Buffer.concat([cipher.update(der), cipher.final()]);
    return { ciphertext, iv, tag: cipher.getAuthTag(), kekId: this.current.id };
  }

  decrypt(kid: string, stored: EncryptedPrivateKey): KeyObject {
    const kek = this.byId.get(stored.kekId);
    if (!kek) {
      throw new KeyDecryptionError(
        `Signing key ${kid} was encrypted with a key-encryption key that is not configured (id ${stored.kekId}): ` +
          `set KEY_ENCRYPTION_KEY to the key used before, or list it in KEY_ENCRYPTION_KEYS_PREVIOUS`,
      );
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', kek, stored.iv);
      decipher.setAAD(Buffer.from(kid, 'utf8'));
      decipher.setAuthTag(stored.tag);
      const der = Buffer.concat([decipher.update(stored.ciphertext), decipher.final()]);
      return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    } catch {
      throw new KeyDecryptionError(`Signing key ${kid} could not be decrypted: its ciphertext or KEY_ENCRYPTION_KEY is wrong`);
    }
  }

  /** True when the row was written under a previous key and should be re-encrypted. */
  isStale(stored: Pick<EncryptedPrivateKey, 'kekId'>): boolean {
    return stored.kekId !== this.current.id;
  }
}
