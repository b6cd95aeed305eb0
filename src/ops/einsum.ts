/**
 * einsum over one or two operands (more are contracted left to right), reduced to permutes,
 * sums and one batched matmul, so gradients come from those ops' rules. Supports explicit
 * ('bij,bjk->bik') and implicit ('ij,jk') outputs and one '...' per operand standing for the
 * same leading dims; repeated letters within one operand (diagonals) are refused.
 */
import { KilnError, check, shapeStr } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { sum } from './reduce.js';
import { checkFloat } from './util.js';

function parseTerm(term: string, t: Tensor, i: number, ellDims: { n: number | null }): string[] {
  const hasEll = term.includes('...');
  const letters = term.replace('...', '');
  check(/^[a-zA-Z]*$/.test(letters) && (term.match(/\.\.\./g) ?? []).length <= 1,
    () => `equation: operand ${i}: '${term}' is not letters with at most one '...'`);
  const nEll = t.ndim - letters.length;
  check(hasEll ? nEll >= 0 : nEll === 0, () => `equation: operand ${i} '${term}' does not match its ${t.ndim} dims ${shapeStr(t.shape)}`);
  if (hasEll) {
    check(ellDims.n === null || ellDims.n === nEll, () => `equation: '...' stands for different numbers of dims`);
    ellDims.n = nEll;
  }
  const ell = Array.from({ length: hasEll ? nEll : 0 }, (_, k) => `#${k}`);
  const [before, after] = hasEll ? term.split('...') : [term, ''];
  const labels = [...before, ...ell, ...after];
  check(new Set(labels).size === labels.length, () => `equation: operand ${i} '${term}' repeats a letter (diagonals are not supported)`);
  return labels;
}

/** Sums out the labels of x that neither the other operand nor the output uses. */
function sumUnused(x: Tensor, labels: string[], keep: Set<string>): [Tensor, string[]] {
  const dims = labels.map((l, d) => (keep.has(l) ? -1 : d)).filter((d) => d >= 0);
  if (dims.length === 0) return [x, labels];
  return [sum(x, dims), labels.filter((l) => keep.has(l))];
}

function contract(a: Tensor, la: string[], b: Tensor, lb: string[], out: string[], sizes: Map<string, number>): [Tensor, string[]] {
  const outSet = new Set(out);
  [a, la] = sumUnused(a, la, new Set([...lb, ...out]));
  [b, lb] = sumUnused(b, lb, new Set([...la, ...out]));
  const inB = new Set(lb);
  const inA = new Set(la);
  const batch = la.filter((l) => inB.has(l) && outSet.has(l));
  const contracted = la.filter((l) => inB.has(l) && !outSet.has(l));
  const left = la.filter((l) => !inB.has(l));
  const right = lb.filter((l) => !inA.has(l));
  const size = (ls: string[]) => ls.reduce((p, l) => p * sizes.get(l)!, 1);
  const pa = a.permute([...batch, ...left, ...contracted].map((l) => la.indexOf(l)))
    .reshape([size(batch), size(left), size(contracted)]);
  const pb = b.permute([...batch, ...contracted, ...right].map((l) => lb.indexOf(l)))
    .reshape([size(batch), size(contracted), size(right)]);
  const prod = pa.matmul(pb).reshape([...batch, ...left, ...right].map((l) => sizes.get(l)!));
  return [prod, [...batch, ...left, ...right]];
}

export function einsum(equation: string, ...operands: (Tensor | Tensor[])[]): Tensor {
  check(typeof equation === 'string', 'equation: expected a string');
  const ts = (operands.length === 1 && Array.isArray(operands[0]) ? operands[0] : operands) as Tensor[];
  check(ts.length >= 1, 'einsum: expected at least one operand');
  ts.forEach((t, i) => checkFloat(t, `einsum: operands[${i}]`));
  const eq = equation.replace(/\s+/g, '');
  const [lhs, rhs] = eq.includes('->') ? eq.split('->') : [eq, null];
  const terms = lhs.split(',');
  check(terms.length === ts.length, () => `equation: ${terms.length} operand terms for ${ts.length} operands`);
  const ellDims = { n: null as number | null };
  const labels = terms.map((term, i) => parseTerm(term, ts[i], i, ellDims));
  const sizes = new Map<string, number>();
  labels.forEach((ls, i) => ls.forEach((l, d) => {
    const s = ts[i].shape[d];
    const prev = sizes.get(l);
    if (prev !== undefined && prev !== s) throw new KilnError(`equation: '${l.startsWith('#') ? '...' : l}' is ${prev} in one operand and ${s} in operand ${i}`);
    sizes.set(l, s);
  }));
  let out: string[];
  const ell = Array.from({ length: ellDims.n ?? 0 }, (_, k) => `#${k}`);
  if (rhs === null) {
    // implicit: the letters that appear once, in alphabetical order, after '...'
    const count = new Map<string, number>();
    labels.flat().forEach((l) => count.set(l, (count.get(l) ?? 0) + 1));
    out = [...ell, ...[...count.keys()].filter((l) => !l.startsWith('#') && count.get(l) === 1).sort()];
  } else {
    const hasEll = rhs.includes('...');
    check(/^[a-zA-Z]*$/.test(rhs.replace('...', '')), () => `equation: output '${rhs}' is not letters with at most one '...'`);
    const [before, after] = hasEll ? rhs.split('...') : [rhs, ''];
    out = [...before, ...(hasEll ? ell : []), ...after];
    check(new Set(out).size === out.length, () => `equation: output '${rhs}' repeats a letter`);
    for (const l of out) check(sizes.has(l), () => `equation: output letter '${l}' is in no operand`);
  }
  let cur = ts[0];
  let curLabels = labels[0];
  for (let i = 1; i < ts.length; i++) {
    // labels later operands still use stay as if in the output
    const later = new Set([...out, ...labels.slice(i + 1).flat()]);
    [cur, curLabels] = contract(cur, curLabels, ts[i], labels[i], [...later], sizes);
  }
  [cur, curLabels] = sumUnused(cur, curLabels, new Set(out));
  const perm = out.map((l) => curLabels.indexOf(l));
  return perm.every((p, i) => p === i) ? cur : cur.permute(perm);
}
