import { CreateTenantsAndApiKeys1764000000000 } from './1764000000000-CreateTenantsAndApiKeys';

/** Every migration, in order. A new migration is added here as well as in its file. */
export const MIGRATIONS = [CreateTenantsAndApiKeys1764000000000];
