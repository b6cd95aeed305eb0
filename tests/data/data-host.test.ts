// 'kiln/data-host' (src/data-host.ts) is what a worker dataset module may import: its module
// graph must not reach Kiln's native addon (native.ts) or anything that makes tensors.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = resolve(import.meta.dirname, '../../src');

function graph(start: string): string[] {
  const seen = new Set([start]);
  const todo = [start];
  while (todo.length) {
    const f = todo.pop()!;
    for (const m of readFileSync(f, 'utf8').matchAll(/^(?:import|export)(?!\s+type\b)[^'";]*?from\s*'(\.[^']+)\.js'|import\(\s*'(\.[^']+)\.js'\s*\)/gm)) {
      const dep = join(dirname(f), `${m[1] ?? m[2]}.ts`);
      if (!seen.has(dep)) {
        seen.add(dep);
        todo.push(dep);
      }
    }
  }
  return [...seen].map((f) => relative(SRC, f)).sort();
}

describe('modules that DataLoader workers load', () => {
  for (const entry of ['data-host.ts', 'data/worker-main.ts']) {
    it(`${entry} reaches no native or tensor code`, () => {
      const mods = graph(join(SRC, entry));
      expect(mods).toContain('data/host.ts');
      for (const bad of ['native.ts', 'tensor.ts', 'creation.ts', 'memory.ts', 'data/dataset.ts', 'data/transforms.ts']) expect(mods).not.toContain(bad);
    });
  }

  it('the check sees value imports (dataset.ts reaches native.ts)', () => {
    expect(graph(join(SRC, 'data/dataset.ts'))).toContain('native.ts');
  });
});
