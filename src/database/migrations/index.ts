import { CreateTenantsAndApiKeys1764000000000 } from './1764000000000-CreateTenantsAndApiKeys';
import { CreateRegisteredKeys1764000001000 } from './1764000001000-CreateRegisteredKeys';
import { CreateSigningKeys1764000002000 } from './1764000002000-CreateSigningKeys';
import { CreateClients1764000003000 } from './1764000003000-CreateClients';
import { CreateRevocations1764000004000 } from './1764000004000-CreateRevocations';
import { CreateRefreshTokens1764000005000 } from './1764000005000-CreateRefreshTokens';
import { CreateAuditEvents1764000006000 } from './1764000006000-CreateAuditEvents';
import { CreateJwtBearerJtis1764000007000 } from './1764000007000-CreateJwtBearerJtis';
import { AuditAppendOnly1764000008000 } from './1764000008000-AuditAppendOnly';
import { RegisteredKeyProof1796119200000 } from './1796119200000-RegisteredKeyProof';
import { RevocationLimits1796119201000 } from './1796119201000-RevocationLimits';
import { NotifyTimestamps1796119400000 } from './1796119400000-NotifyTimestamps';
import { CredentialChangeNotify1796119500000 } from './1796119500000-CredentialChangeNotify';
import { SecretlessClients1796119900000 } from './1796119900000-SecretlessClients';
import { Dpop1796120300000 } from './1796120300000-Dpop';

/** Every migration, in order. A new migration is added here as well as in its file. */
export const MIGRATIONS = [
  CreateTenantsAndApiKeys1764000000000,
  CreateRegisteredKeys1764000001000,
  CreateSigningKeys1764000002000,
  CreateClients1764000003000,
  CreateRevocations1764000004000,
  CreateRefreshTokens1764000005000,
  CreateAuditEvents1764000006000,
  CreateJwtBearerJtis1764000007000,
  AuditAppendOnly1764000008000,
  RegisteredKeyProof1796119200000,
  RevocationLimits1796119201000,
  NotifyTimestamps1796119400000,
  CredentialChangeNotify1796119500000,
  SecretlessClients1796119900000,
  Dpop1796120300000,
];
