export default async function globalTeardown() {
  await globalThis.__TESSERA_EMBEDDED_PG__?.stop();
}
