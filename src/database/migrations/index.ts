import { CreateTenantsAndApiKeys1764000000000 } from './1764000000000-CreateTenantsAndApiKeys';
import { CreateRegisteredKeys1764000001000 } from './1764000001000-CreateRegisteredKeys';
import { CreateSigningKeys1764000002000 } from './1764000002000-CreateSigningKeys';

/** Every migration, in order. A new migration is added here as well as in its file. */
export const MIGRATIONS = [
  CreateTenantsAndApiKeys1764000000000,
  CreateRegisteredKeys1764000001000,
  CreateSigningKeys1764000002000,
];
