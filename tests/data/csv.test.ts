import { describe, it, expect } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KilnError } from '../../src/errors.js';
import { parseCsv, parseCsvRecords, parseCsvTable, readCsv, parseCsvNumber } from '../../src/data/index.js';

function errOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

describe('parseCsvRecords (RFC 4180)', () => {
  it('splits fields, handles quotes, doubled quotes, delimiters and newlines in quotes', () => {
    const text = 'a,b,c\r\n1,"x, y","say ""hi"""\r\n2,"line1\nline2",\n\n3,,"z"';
    const r = parseCsvRecords(text);
    expect(r.map((x) => x.fields)).toEqual([
      ['a', 'b', 'c'],
      ['1', 'x, y', 'say "hi"'],
      ['2', 'line1\nline2', ''],
      ['3', '', 'z'],
    ]);
    // line numbers are physical lines where each record starts
    expect(r.map((x) => x.line)).toEqual([1, 2, 3, 6]);
  });

  it('skips a BOM and accepts other delimiters', () => {
    expect(parseCsvRecords('\ufeffa;b\n1;2\n', { delimiter: ';' }).map((x) => x.fields)).toEqual([['a', 'b'], ['1', '2']]);
  });

  it('reports an unclosed quote and junk after a closing quote with the line', () => {
    let e = errOf(() => parseCsvRecords('a,b\n1,"open\n2,3\n', { file: 'f.csv' }));
    expect(e).toBeInstanceOf(KilnError);
    expect(e.message).toBe('f.csv: line 2, column 2: quoted field is not closed before the end of the file');
    e = errOf(() => parseCsvRecords('a,b\n1,"x"y\n', { file: 'f.csv' }));
    expect(e.message).toMatch(/^f\.csv: line 2, column 2: unexpected character "y" after a closing quote/);
    e = errOf(() => parseCsvRecords('a,b\n1,x"y\n', { file: 'f.csv' }));
    expect(e.message).toMatch(/^f\.csv: line 2, column 2: quote inside an unquoted field/);
  });

  it('parses numbers strictly', () => {
    expect(parseCsvNumber(' 1.5e3 ')).toBe(1500);
    expect(parseCsvNumber('-.5')).toBe(-0.5);
    expect(parseCsvNumber('NaN')).toBeNaN();
    expect(parseCsvNumber('-inf')).toBe(-Infinity);
    for (const s of ['', 'abc', '0x10', '1,5', '1e', '--1']) expect(parseCsvNumber(s)).toBeUndefined();
  });
});

describe('parseCsvTable / parseCsv', () => {
  const iris = [
    'sepal_length,sepal_width,species',
    '5.1,3.5,setosa',
    '7.0,3.2,versicolor',
    '6.3,3.3,virginica',
    '4.9,3.0,setosa',
  ].join('\n');

  it('reads numeric features and maps string labels to sorted class ids', () => {
    const t = parseCsvTable(iris, { label: 'species' });
    expect(t.columns).toEqual(['sepal_length', 'sepal_width']);
    expect(t.columnTypes).toEqual(['number', 'number']);
    expect(Array.from(t.features)).toEqual([5.1, 3.5, 7.0, 3.2, 6.3, 3.3, 4.9, 3.0].map(Math.fround));
    expect(t.classes).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(t.labels).toBeInstanceOf(Int32Array);
    expect(Array.from(t.labels!)).toEqual([0, 1, 2, 0]);
  });

  it('returns tensors: features float32 [N, F], labels int32 [N]', () => {
    const d = parseCsv(iris, { label: 'species' });
    expect(d.features.shape).toEqual([4, 2]);
    expect(d.features.dtype).toBe('float32');
    expect(d.labels!.dtype).toBe('int32');
    expect(d.labels!.toArray()).toEqual([0, 1, 2, 0]);
    expect(d.classes).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(d.labelColumn).toBe('species');
  });

  it('uses a given class list (e.g. from the training set) and rejects unknown labels', () => {
    const t = parseCsvTable(iris, { label: 'species', classes: ['virginica', 'setosa', 'versicolor'] });
    expect(Array.from(t.labels!)).toEqual([1, 2, 0, 1]);
    const e = errOf(() => parseCsvTable(iris, { label: 'species', classes: ['setosa'], file: 'iris.csv' }));
    expect(e.message).toBe(`iris.csv: line 3, column 'species' (3): label "versicolor" is not one of the given classes`);
  });

  it('auto label types: integers -> int32, reals -> float32, forced number/class', () => {
    const text = 'x,y\n1,0\n2,3\n3,1\n';
    const a = parseCsv(text, { label: 'y' });
    expect(a.labels!.dtype).toBe('int32');
    expect(a.labels!.toArray()).toEqual([0, 3, 1]);
    expect(a.classes).toBeUndefined();
    const b = parseCsv('x,y\n1,0.5\n2,-1.25\n', { label: 1 });
    expect(b.labels!.dtype).toBe('float32');
    expect(b.labels!.toArray()).toEqual([0.5, -1.25]);
    const c = parseCsvTable('x,y\n1,10\n2,9\n3,10\n', { label: 'y', labelType: 'class' });
    expect(c.classes).toEqual(['9', '10']); // numeric order when all labels are numbers
    expect(Array.from(c.labels!)).toEqual([1, 0, 1]);
    const d = parseCsvTable(text, { label: 'y', labelType: 'number' });
    expect(d.labels).toBeInstanceOf(Float32Array);
  });

  it('infers all-text columns as categories, honours given types and a feature list', () => {
    const text = 'age,sex,city,income\n30,M,"Paris, FR",1.5\n41,F,Berlin,2\n25,F,"Paris, FR",0.5\n';
    const t = parseCsvTable(text, { label: 'income', columnTypes: { city: 'ignore' } });
    expect(t.columns).toEqual(['age', 'sex']);
    expect(t.columnTypes).toEqual(['number', 'category']);
    expect(t.categories).toEqual({ sex: ['F', 'M'] });
    expect(Array.from(t.features)).toEqual([30, 1, 41, 0, 25, 0]);
    expect(Array.from(t.labels!)).toEqual([1.5, 2, 0.5]);
    const u = parseCsvTable(text, { features: ['city', 'age'] });
    expect(u.columns).toEqual(['city', 'age']);
    expect(u.categories.city).toEqual(['Berlin', 'Paris, FR']);
    expect(Array.from(u.features)).toEqual([1, 30, 0, 41, 1, 25]);
  });

  it('reads files without a header row', () => {
    const t = parseCsvTable('1,2,a\n3,4,b\n', { header: false, label: 2 });
    expect(t.columns).toEqual(['col0', 'col1']);
    expect(t.labelColumn).toBe('col2');
    expect(Array.from(t.features)).toEqual([1, 2, 3, 4]);
  });

  it('reports ragged rows with the line', () => {
    const e = errOf(() => parseCsvTable('a,b,c\n1,2,3\n4,5\n', { file: 'r.csv' }));
    expect(e).toBeInstanceOf(KilnError);
    expect(e.message).toBe('r.csv: line 3: expected 3 fields (as in the header), found 2');
    // a quoted newline does not shift later line numbers
    const e2 = errOf(() => parseCsvTable('a,b\n"x\ny",1\n1,2,3\n', { file: 'r.csv' }));
    expect(e2.message).toBe('r.csv: line 4: expected 2 fields (as in the header), found 3');
  });

  it('reports a non-numeric value in a numeric column with line and column', () => {
    const e = errOf(() => parseCsvTable('a,b\n1,2\n3,oops\n5,6\n', { file: 'n.csv' }));
    expect(e).toBeInstanceOf(KilnError);
    expect(e.message).toBe(`n.csv: line 3, column 'b' (2): value "oops" is not a number`);
    const m = errOf(() => parseCsvTable('a,b\n1,2\n3,\n', { file: 'n.csv' }));
    expect(m.message).toMatch(/^n\.csv: line 3, column 'b' \(2\): empty value \(pass allowMissing/);
    const ok = parseCsvTable('a,b\n1,2\n3,\n', { allowMissing: true });
    expect(Number.isNaN(ok.features[3])).toBe(true);
    const forced = errOf(() => parseCsvTable('a,b\n1,x\n', { columnTypes: { b: 'number' }, file: 'n.csv' }));
    expect(forced.message).toMatch(/line 2, column 'b' \(2\): value "x" is not a number/);
  });

  it('reports bad options clearly', () => {
    expect(() => parseCsvTable('a,b\n1,2\n', { label: 'z' })).toThrow(/label column "z" not found \(columns: a, b\)/);
    expect(() => parseCsvTable('a,a\n1,2\n')).toThrow(/duplicate column name 'a'/);
    expect(() => parseCsvTable('')).toThrow(/empty CSV file/);
    expect(() => parseCsvTable('a\n1\n', { columnTypes: { q: 'number' } })).toThrow(/columnTypes names column 'q'/);
  });

  it('readCsv reads a file and names it in errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-csv-'));
    try {
      const p = join(dir, 'data.csv');
      writeFileSync(p, 'f1,f2,label\n0.5,1,cat\n1.5,2,dog\n');
      const d = await readCsv(p, { label: 'label' });
      expect(d.features.toArray()).toEqual([[0.5, 1], [1.5, 2]]);
      expect(d.labels!.toArray()).toEqual([0, 1]);
      expect(d.classes).toEqual(['cat', 'dog']);
      writeFileSync(p, 'f1,f2\n1,2\n3\n');
      await expect(readCsv(p)).rejects.toThrow(`${p}: line 3: expected 2 fields`);
      await expect(readCsv(join(dir, 'none.csv'))).rejects.toThrow(/none\.csv: cannot read CSV file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
