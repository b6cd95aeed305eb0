/**
 * A worker process of study.optimize({ nJobs }) (started by parallel.ts): loads the objective
 * module, opens the shared journal, and runs one trial per slot the parent grants.
 */
import type { FromWorker, ToWorker } from './parallel.js';
import { importObjective, runTrial } from './optimize.js';
import type { PrunerSpec } from './pruners/pruner.js';
import type { SamplerSpec } from './samplers/sampler.js';
import { prunerFromSpec, samplerFromSpec } from './specs.js';
import { JournalStorage } from './storage/journal.js';
import { loadStudy } from './study.js';

const send = (m: FromWorker) => new Promise<void>((res) => process.send!(m, () => res()));
let waiting: ((go: boolean) => void) | null = null;

async function run(init: Extract<ToWorker, { type: 'init' }>): Promise<void> {
  const fn = await importObjective(init.module);
  const study = loadStudy({
    studyName: init.studyName, storage: new JournalStorage(init.journal),
    sampler: samplerFromSpec(init.sampler as SamplerSpec, init.rank), pruner: prunerFromSpec(init.pruner as PrunerSpec),
  });
  for (;;) {
    const granted = new Promise<boolean>((res) => { waiting = res; });
    await send({ type: 'next' });
    if (!(await granted)) break;
    const id = study.createTrial();
    if (id === null) { await send({ type: 'exhausted' }); break; }
    await send({ type: 'started', trialId: id });
    await runTrial(study, id, fn);
    await send({ type: 'done', trialId: id });
    if (study.sampler.isExhausted?.(study.view)) { await send({ type: 'exhausted' }); break; }
  }
}

process.on('message', (m: ToWorker) => {
  if (m.type === 'init') {
    // a loaded native library may keep threads alive: exit once the parent has let go
    const leave = () => { process.disconnect(); setTimeout(() => process.exit(process.exitCode ?? 0), 2000).unref(); };
    run(m).then(
      leave,
      async (e) => {
        await send({ type: 'fatal', message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
        process.exitCode = 1;
        leave();
      },
    );
  } else if (waiting) {
    const w = waiting;
    waiting = null;
    w(m.type === 'go');
  }
});
