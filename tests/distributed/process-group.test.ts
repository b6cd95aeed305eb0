// The process group in this process (a world of one rank, on Gloo): bad input is a KilnError
// naming the argument; waits that cannot complete fail within their timeout; a missing engine
// names the package to install; the environment is read as torchrun and mpirun write it.
import { execFileSync } from 'node:child_process';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import * as kiln from '../../src/index.js';
import { glooLoadError } from '../../src/distributed/native.js';
import { checkBuilt, freePort, root } from './ranks';

const dist = kiln.distributed;

describe('before initProcessGroup', () => {
  it('getRank and the collectives say the group is not initialized', () => {
    expect(dist.isInitialized()).toBe(false);
    expect(() => dist.getRank()).toThrow(/not initialized/);
    expect(() => dist.allReduce(kiln.zeros([2]))).toThrow(kiln.KilnError);
    expect(() => dist.destroyProcessGroup()).toThrow(/not initialized/);
  });

  it('options are checked', async () => {
    await expect(dist.initProcessGroup({ backend: 'tcp' as any })).rejects.toThrow(/backend: expected 'gloo', 'mpi' or 'nccl'/);
    await expect(dist.initProcessGroup({ timeoutMs: -5 })).rejects.toThrow(/timeoutMs: expected a positive integer/);
    await expect(dist.initProcessGroup({ rank: 2, worldSize: 2 })).rejects.toThrow(/rank: expected a rank below the world size 2/);
  });

  it('a rank whose rank 0 never comes fails within its timeout, naming the store', async () => {
    const port = await freePort();
    const t0 = performance.now();
    await expect(dist.initProcessGroup({ rank: 1, worldSize: 2, masterPort: port, timeoutMs: 1500 }))
      .rejects.toThrow(/rendezvous store at 127\.0\.0\.1:\d+ was not reachable within 1500 ms/);
    expect(performance.now() - t0).toBeLessThan(6000);
    expect(dist.isInitialized()).toBe(false);
  });

  it('rank 0 waiting for a rank that never comes fails within its timeout, then can start again', async () => {
    const port = await freePort();
    const t0 = performance.now();
    await expect(dist.initProcessGroup({ rank: 0, worldSize: 2, masterPort: port, timeoutMs: 1500 }))
      .rejects.toThrow(/was not set within 1500 ms/);
    expect(performance.now() - t0).toBeLessThan(6000);
    // the failed attempt let its store and threads go: the same port serves a new world
    await dist.initProcessGroup({ rank: 0, worldSize: 1, masterPort: port, timeoutMs: 5000 });
    dist.destroyProcessGroup();
  });
});

describe('a world of one rank', () => {
  beforeAll(async () => {
    await dist.initProcessGroup({ rank: 0, worldSize: 1, masterPort: await freePort(), timeoutMs: 10_000 });
  });
  afterAll(() => {
    if (dist.isInitialized()) dist.destroyProcessGroup();
  });

  it('knows its place', () => {
    expect(dist.getRank()).toBe(0);
    expect(dist.getWorldSize()).toBe(1);
    expect(dist.getBackend()).toBe('gloo');
  });

  it('collectives over one rank are what their definitions give', async () => {
    const t = kiln.tensor([1.5, -2, 3]);
    await dist.allReduce(t, { op: 'avg' });
    expect(Array.from(t.toTypedArray())).toEqual([1.5, -2, 3]);
    const out = kiln.zeros([3]);
    await dist.reduceScatterTensor(out, t);
    expect(Array.from(out.toTypedArray())).toEqual([1.5, -2, 3]);
    await dist.barrier();
    t.dispose();
    out.dispose();
  });

  it('bad arguments are KilnErrors naming the argument', async () => {
    const t = kiln.zeros([4, 2]);
    const i = kiln.zeros([4], { dtype: 'int32' });
    expect(() => dist.allReduce([1, 2] as any)).toThrow(/tensor: expected a Tensor in allReduce/);
    expect(() => dist.allReduce(t.transpose(0, 1))).toThrow(/tensor: expected a contiguous tensor in allReduce/);
    expect(() => dist.allReduce(t, { op: 'prod' as any })).toThrow(/op: expected 'sum', 'avg', 'max' or 'min'/);
    expect(() => dist.allReduce(i, { op: 'avg' })).toThrow(/'avg' needs a float32 tensor/);
    expect(() => dist.broadcast(t, 3)).toThrow(/src: rank 3 is not a member of this group/);
    expect(() => dist.allGather([t, t], t)).toThrow(/tensorList: expected an array of 1 tensors/);
    expect(() => dist.allGatherIntoTensor(kiln.zeros([3]), t)).toThrow(/output: expected 1 x 8 elements/);
    expect(() => dist.allGatherIntoTensor(i, t)).toThrow(/output: expected dtype float32/);
    expect(() => dist.reduceScatterTensor(t, t)).toThrow(/must not share memory/);
    expect(() => dist.send(t, 0)).toThrow(/dst: a rank cannot send to itself/);
    expect(() => dist.recv(t, 0, { tag: -1 })).toThrow(/src: a rank cannot receive from itself/);
    const d = kiln.zeros([2]);
    d.dispose();
    expect(() => dist.allReduce(d)).toThrow(/disposed/);
    expect(() => dist.allReduce(t, { group: {} as any })).toThrow(/group: expected a ProcessGroup/);
    await expect(dist.newGroup([0, 0])).rejects.toThrow(/ranks: a rank appears twice/);
    await expect(dist.newGroup([1])).rejects.toThrow(/ranks: expected integers in \[0, 1\)/);
    await expect(dist.initProcessGroup()).rejects.toThrow(/already initialized/);
    t.dispose();
    i.dispose();
  });

  it('a destroyed sub-group refuses work', async () => {
    const g = await dist.newGroup([0]);
    await dist.allReduce(kiln.ones([2]), { group: g });
    dist.destroyProcessGroup(g);
    expect(() => dist.allReduce(kiln.ones([2]), { group: g })).toThrow(/has been destroyed/);
  });

  it('the TCP store: set, get (waiting for a later set), add, check', async () => {
    const store = new dist.TCPStore('127.0.0.1', 0, { isMaster: true, timeoutMs: 3000 });
    try {
      const later = store.get('k');
      await store.set('k', 'value');
      expect(new TextDecoder().decode(await later)).toBe('value');
      expect(await store.add('n', 5)).toBe(5);
      expect(await store.add('n', -2)).toBe(3);
      expect(await store.check(['k', 'n'])).toBe(true);
      expect(await store.check(['missing'])).toBe(false);
      await expect(store.wait(['missing'], 300)).rejects.toThrow(/key 'missing' was not set within 300 ms/);
    } finally {
      store.close();
    }
  });
});

describe('the environment', () => {
  it("reads torchrun's and OpenMPI's variables, options first", () => {
    const torchrun = { RANK: '3', WORLD_SIZE: '4', LOCAL_RANK: '1', LOCAL_WORLD_SIZE: '2', MASTER_ADDR: 'node0', MASTER_PORT: '1234' };
    expect(dist.readRankEnv({}, torchrun)).toEqual({
      rank: 3, worldSize: 4, localRank: 1, localWorldSize: 2, masterAddr: 'node0', masterPort: 1234, source: 'torchrun',
    });
    const mpirun = { OMPI_COMM_WORLD_RANK: '1', OMPI_COMM_WORLD_SIZE: '3', OMPI_COMM_WORLD_LOCAL_RANK: '1', OMPI_COMM_WORLD_LOCAL_SIZE: '3' };
    expect(dist.readRankEnv({}, mpirun)).toMatchObject({ rank: 1, worldSize: 3, localRank: 1, masterAddr: '127.0.0.1', masterPort: 29500, source: 'mpirun' });
    expect(dist.readRankEnv({ rank: 0, worldSize: 1 }, torchrun)).toMatchObject({ rank: 0, worldSize: 1, source: 'options' });
    expect(() => dist.readRankEnv({}, { RANK: 'x', WORLD_SIZE: '2' })).toThrow(/RANK: expected an integer/);
    expect(() => dist.readRankEnv({}, { RANK: '0', WORLD_SIZE: '2', MASTER_PORT: '70000' })).toThrow(/MASTER_PORT: expected an integer in \[1, 65535\]/);
  });
});

describe('missing engines name their package', () => {
  it('Gloo: a libgloo load failure says what to install', () => {
    const msg = glooLoadError('/x/kiln_gloo.node', 'libgloo.so.0: cannot open shared object file: No such file or directory');
    expect(msg).toMatch(/Gloo is not installed.*apt-get install libgloo0/);
  });

  it('Gloo and MPI in a fresh process, pointed at libraries that are not there', () => {
    checkBuilt();
    const script = (backend: string) => `import('./dist/index.js').then(async (k) => {
      try { await k.distributed.initProcessGroup({ backend: '${backend}', rank: 0, worldSize: 1, masterPort: 1 + Math.floor(Math.random() * 1000) + 40000 }); }
      catch (e) { console.log(e.name + ': ' + e.message); }
    })`;
    const run = (backend: string, env: Record<string, string>) =>
      execFileSync(process.execPath, ['-e', script(backend)], { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8' });
    expect(run('gloo', { KILN_GLOO_BINARY: '/nonexistent/kiln_gloo.node' })).toMatch(/KilnError: .*kiln_gloo.node is not built: install Gloo \(apt-get install libgloo-dev\)/);
    expect(run('mpi', { KILN_MPI_LIBRARY: '/nonexistent/libmpi.so.40' })).toMatch(/KilnError: .*MPI is not available.*apt-get install openmpi-bin libopenmpi3/);
  });
});
