/**
 * Starting DataLoader workers when Kiln runs from its TypeScript sources (its own tests under
 * vitest; the package runs dist/ and never comes here). Node 20 cannot strip types, and
 * loading the TypeScript compiler in every worker costs seconds, so the worker's module graph
 * (worker-main.ts and what it imports) is transpiled once into a folder named by a hash of the
 * sources, which later processes reuse. Needs the `typescript` devDependency.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { KilnError } from '../errors.js';

let cached: Promise<URL> | undefined;

/** The file URL of a plain-JS build of worker-main.ts. */
export function workerEntryFromSource(): Promise<URL> {
  cached ??= build();
  return cached;
}

async function build(): Promise<URL> {
  const srcRoot = fileURLToPath(new URL('../', import.meta.url));
  const files = graph(join(srcRoot, 'data', 'worker-main.ts'));
  const hash = createHash('sha1');
  for (const f of files) hash.update(f).update(readFileSync(f));
  const dir = join(tmpdir(), `kiln-worker-${hash.digest('hex').slice(0, 16)}`);
  const entry = pathToFileURL(join(dir, 'data', 'worker-main.js'));
  if (existsSync(fileURLToPath(entry))) return entry;
  let ts: typeof import('typescript');
  try {
    ts = (await import('typescript')).default;
  } catch (e) {
    throw new KilnError(`DataLoader: starting workers from Kiln's TypeScript sources needs the typescript package (${(e as Error).message})`);
  }
  const tmp = `${dir}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  for (const f of files) {
    const out = ts.transpileModule(readFileSync(f, 'utf8'), {
      fileName: f,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, sourceMap: false },
    }).outputText;
    const dest = join(tmp, relative(srcRoot, f).replace(/\.ts$/, '.js'));
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, out);
  }
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another process won the race: use its copy
  }
  return entry;
}

/** worker-main.ts and every module it imports (relative value imports). */
function graph(start: string): string[] {
  const seen = new Set<string>([start]);
  const todo = [start];
  while (todo.length > 0) {
    const f = todo.pop()!;
    const text = readFileSync(f, 'utf8');
    // value imports and re-exports (`import type` is erased by the transpiler), and import()
    for (const m of text.matchAll(/^(?:import|export)(?!\s+type\b)[^'";]*?from\s*'(\.[^']+)\.js'|import\(\s*'(\.[^']+)\.js'\s*\)/gm)) {
      const dep = join(dirname(f), `${m[1] ?? m[2]}.ts`);
      if (!seen.has(dep)) {
        seen.add(dep);
        todo.push(dep);
      }
    }
  }
  return [...seen].sort();
}
