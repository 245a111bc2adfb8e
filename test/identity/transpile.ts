import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/**
 * Node 20 runs no TypeScript: the identity modules are transpiled into `into` for other processes
 * and worker threads to import (as `./identity/<module>.js`).
 */
export function transpileIdentityModules(into: string): void {
  const sources = [...readdirSync(join(SRC, 'identity')).map((name) => `identity/${name}`), 'core/types.ts'];
  for (const source of sources) {
    const { outputText } = ts.transpileModule(readFileSync(join(SRC, source), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
    });
    const output = join(into, source.replace(/\.ts$/, '.js'));
    mkdirSync(dirname(output), { recursive: true });
    writeFileSync(output, outputText);
  }
  writeFileSync(join(into, 'package.json'), '{ "type": "module" }\n');
}
