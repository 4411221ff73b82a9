import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { NotificationsService } from '../database/notifications.service';

/** The channel the credential triggers (migration 1796119300000) notify on. */
export const CREDENTIALS_CHANNEL = 'tessera_credentials';

/** A change that can end a credential or a key, as the caches need to hear of it. */
export type CredentialChange =
  | { t: 'api_key'; tenantId: string; prefix: string }
  | { t: 'client'; tenantId: string; clientId: string }
  /**
   * Disabled, deleted, or its settings changed: everything of the tenant is read again. `blocked` is set only by the
   * replica that made the change (it knows the new state): the denylist then refuses or accepts the tenant's own
   * tokens at once, without waiting for its own NOTIFY.
   */
  | { t: 'tenant'; tenantId: string; blocked?: boolean }
  | { t: 'registered_key'; tenantId: string; kid: string }
  /** Changes may have been missed (LISTEN came back, or notifications do not arrive): forget everything. */
  | { t: 'all' };

export type CredentialChangeListener = (change: CredentialChange) => void;

/**
 * Tells every cache of credentials and keys on this replica (API keys and clients, tenant
 * settings, registered keys) that something changed, from two sources:
 *
 * - `published()`: a change this replica made, called after the commit and before the request
 *   answers, so the next request here already sees it;
 * - NOTIFY on `tessera_credentials`, sent by triggers on `api_keys`, `clients`, `tenants` and
 *   `registered_keys` whoever wrote the row, so other replicas see it within a second. When
 *   LISTEN comes back, and every NOTIFY_FALLBACK_POLL_INTERVAL while notifications do not
 *   arrive, every cache forgets everything (docs/adr/0017-revocation-propagation.md).
 *
 * Listeners are synchronous and only drop cache entries.
 */
@Injectable()
export class CredentialChanges implements OnApplicationBootstrap {
  private readonly logger = new Logger('CredentialChanges');
  private readonly listeners: CredentialChangeListener[] = [];

  constructor(private readonly notifications: NotificationsService) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.notifications.listen(
      CREDENTIALS_CHANNEL,
      { applicationName: 'tessera-credentials', description: 'Credential listener' },
      {
        onNotification: (payload) => this.received(payload),
        onListening: async () => this.published({ t: 'all' }),
        poll: async () => this.published({ t: 'all' }),
      },
    );
  }

  subscribe(listener: CredentialChangeListener): void {
    this.listeners.push(listener);
  }

  /** A change committed (here or elsewhere): every cache on this replica forgets what it covers, now. */
  published(change: CredentialChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        this.logger.error(`A cache could not apply a credential change: ${(error as Error).message}`);
      }
    }
  }

  /** A NOTIFY payload; one that cannot be read makes every cache forget everything (never a stale credential). */
  received(payload: string): void {
    this.published(parseChange(payload) ?? { t: 'all' });
  }
}

function parseChange(payload: string): CredentialChange | undefined {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(payload) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const text = (name: string) => (typeof parsed?.[name] === 'string' ? (parsed[name] as string) : undefined);
  const tenantId = text('tenantId');
  switch (parsed?.t) {
    case 'api_key':
      return tenantId && text('prefix') ? { t: 'api_key', tenantId, prefix: text('prefix')! } : undefined;
    case 'client':
      return tenantId && text('clientId') ? { t: 'client', tenantId, clientId: text('clientId')! } : undefined;
    case 'tenant':
      return tenantId ? { t: 'tenant', tenantId } : undefined;
    case 'registered_key':
      return tenantId && text('kid') ? { t: 'registered_key', tenantId, kid: text('kid')! } : undefined;
    default:
      return undefined;
  }
}
