// The op table (native/include/ops.def) is the one declaration: the addon's exports, their field
// lists and the TypeScript declaration (src/native-ops.ts) must all follow from it.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

// @ts-expect-error: a plain .mjs script without declarations
import { opsDefPath, parseOpsDef } from '../../scripts/gen-native-ops.mjs';

const root = join(__dirname, '..', '..');
const native = createRequire(import.meta.url)('../../build/Release/kiln.node');

describe('op table', () => {
  const parsed = parseOpsDef(readFileSync(opsDefPath, 'utf8')) as { name: string; composite: boolean; fields: { kind: string; name: string }[] }[];

  it('src/native-ops.ts is what scripts/gen-native-ops.mjs writes from ops.def', () => {
    expect(() => execFileSync(process.execPath, [join(root, 'scripts/gen-native-ops.mjs'), '--check'], { stdio: 'pipe' })).not.toThrow();
  });

  it("the addon's op list and field lists are ops.def's, in order", () => {
    const specs = native.opSpecs() as { name: string; composite: boolean; fields: { kind: string; name: string }[] }[];
    expect(specs.map((s) => s.name)).toEqual(parsed.map((p) => p.name));
    for (const [i, spec] of specs.entries()) {
      expect(spec.composite, spec.name).toBe(parsed[i].composite);
      expect(spec.fields.map((f) => `${f.kind} ${f.name}`), spec.name).toEqual(parsed[i].fields.map((f) => `${f.kind} ${f.name}`));
      expect(typeof native[spec.name], spec.name).toBe('function');
    }
    expect(specs.length).toBeGreaterThan(30);
  });

  it('every op is declared once in TypeScript, with one argument per JS value the binding reads', () => {
    const decl = readFileSync(join(root, 'src/native-ops.ts'), 'utf8');
    const widths: Record<string, number> = { CONV: 3 };
    for (const op of parsed) {
      const m = decl.match(new RegExp(`^  ${op.name}\\((.*)\\): void;$`, 'm'));
      expect(m, op.name).not.toBeNull();
      const declared = m![1] === '' ? 0 : m![1].split(', ').length;
      const read = op.fields.reduce((n, f) => n + (widths[f.kind] ?? (/IN|OUT|INDEX/.test(f.kind) ? 2 : 1)), 0);
      expect(declared, op.name).toBe(read);
      // the binding refuses any other argument count
      expect(() => native[op.name](...new Array(read + 1).fill(0))).toThrow(new RegExp(`^${op.name}: expected ${read} arguments`));
    }
  });
});
