import { rmSync } from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  await globalThis.__TESSERA_EMBEDDED_PG__?.stop();
  const dataDir = process.env.TESSERA_TEST_PG_DATA_DIR;
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}
