// The public declarations: the examples (and the CLI) type-check against dist/index.d.ts with
// strict settings, so every exported name they use has its declaration.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');

describe('public types', () => {
  it('examples compile with tsc --noEmit against the built declarations', () => {
    expect(existsSync(join(root, 'dist/index.d.ts')), 'dist/ is built by npm install (prepare) or npm run build:ts').toBe(true);
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    const run = () => execFileSync(process.execPath, [tsc, '-p', 'tsconfig.examples.json'], { cwd: root, encoding: 'utf8' });
    expect(run).not.toThrow();
  });
});
