import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** CONVENTIONS.md: "src/guard imports nothing from src/" — consumers get it without the rest of Tessera. */
describe('src/guard boundary', () => {
  const files = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));

  it('imports only its own files and packages (tests may use examples/)', () => {
    const outside: string[] = [];
    for (const file of files(__dirname)) {
      for (const [, spec] of readFileSync(file, 'utf8').matchAll(/(?:from|import|require\()\s*'(\.[^']*)'/g)) {
        const target = relative(__dirname, resolve(dirname(file), spec));
        const allowed = !target.startsWith('..') || (file.endsWith('.spec.ts') && target.startsWith('../../examples/'));
        if (!allowed) outside.push(`${relative(__dirname, file)} → ${spec}`);
      }
    }
    expect(outside).toEqual([]);
  });
});
