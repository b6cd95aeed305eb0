/**
 * CSV reader (RFC 4180): a header row, fields separated by a delimiter, quoted fields that may
 * hold delimiters, doubled quotes ("") and newlines; CRLF or LF line ends; a UTF-8 BOM is
 * skipped.
 *
 * Column types, for the feature columns (every column but the label and ignored ones):
 *   'number'    parsed as a number; a value that is not a number is a KilnError naming the
 *               line and column
 *   'category'  strings mapped to ids 0..K-1 (sorted order), stored as the feature value;
 *               the mapping is returned in `categories`
 *   'ignore'    dropped
 * Given in `columnTypes`, else inferred: a column in which no value parses as a number is a
 * 'category' column, any other column is 'number' (so one stray word in a numeric column is
 * reported, not silently encoded).
 *
 * The label column (opt `label`: a name or index) becomes `labels`:
 *   labelType 'class'   strings mapped to class ids 0..K-1 -> int32; the id order is sorted
 *                       (numeric order when every label is a number, else string order) unless
 *                       `classes` gives it; `classes` in the result is the list, index = id
 *   labelType 'number'  parsed as float32 (regression targets)
 *   labelType 'auto'    (default) integers -> int32 as is; other numbers -> float32;
 *                       any non-numeric value -> 'class'
 */
import { checkOptions } from '../options.js';
import { readFile } from 'node:fs/promises';
import { KilnError } from '../errors.js';
import { brief, briefList } from '../io/limits.js';
import { tensor } from '../creation.js';
import type { DeviceLike } from '../device.js';
import type { Tensor } from '../tensor.js';

export type ColumnType = 'number' | 'category' | 'ignore';

const CSV_KEYS = ['delimiter', 'header', 'label', 'labelType', 'classes', 'columnTypes', 'features', 'allowMissing', 'device', 'file'];

export interface CsvOptions {
  /** Field separator, one character. Default ','. */
  delimiter?: string;
  /** Whether the first row names the columns. Default true; else columns are named col0, col1, ... */
  header?: boolean;
  /** The label column, by name or index. Default: none (all columns are features). */
  label?: string | number;
  /** How labels are read. Default 'auto'. */
  labelType?: 'auto' | 'class' | 'number';
  /** Class names in id order (fixes the mapping, e.g. to match a training set). */
  classes?: string[];
  /** Types of feature columns, by name; the rest are inferred. */
  columnTypes?: Record<string, ColumnType>;
  /** Feature columns to keep, by name, in this order. Default: all but the label. */
  features?: string[];
  /** Treat empty feature values as NaN instead of an error. Default false. */
  allowMissing?: boolean;
  /** Device of the returned tensors. */
  device?: DeviceLike;
  /** Name used in errors (readCsv passes the path). */
  file?: string;
}

export interface CsvTable {
  /** float32 [N, F], rows in file order. */
  features: Float32Array;
  numRows: number;
  /** Feature column names, in the order of the feature columns. */
  columns: string[];
  /** The type each feature column was read as. */
  columnTypes: ColumnType[];
  /** For each 'category' feature column, its values in id order. */
  categories: Record<string, string[]>;
  labels?: Float32Array | Int32Array;
  labelColumn?: string;
  /** Class names by id, when labels were read as classes. */
  classes?: string[];
}

export interface CsvData {
  /** float32 [N, F]. */
  features: Tensor;
  /** int32 [N] (class ids) or float32 [N] (numeric targets); absent without a label column. */
  labels?: Tensor;
  columns: string[];
  columnTypes: ColumnType[];
  categories: Record<string, string[]>;
  labelColumn?: string;
  classes?: string[];
}

/** One parsed record with the 1-based physical line it starts on. */
export interface CsvRecord {
  line: number;
  fields: string[];
}

/**
 * Split CSV text into records (RFC 4180). Blank lines are skipped. Throws KilnError on an
 * unterminated quoted field or text between a closing quote and the next delimiter.
 */
const QUOTE = 0x22;

/** A name from the file, shortened for an error message. */
function cut(s: string): string {
  return s.length > 60 ? `${s.slice(0, 60)}...` : s;
}

export function parseCsvRecords(text: string, opts: { delimiter?: string; file?: string } = {}): CsvRecord[] {
  const file = opts.file ?? '<csv>';
  const delim = opts.delimiter ?? ',';
  if (delim.length !== 1 || delim === '"' || delim === '\n' || delim === '\r') {
    throw new KilnError(`parseCsv: delimiter must be one character other than a quote or newline, got ${JSON.stringify(delim)}`);
  }
  const records: CsvRecord[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  const n = text.length;
  while (i < n) {
    const start = line;
    const fields: string[] = [];
    let blank = true;
    for (;;) {
      // one field
      let value = '';
      if (text.charCodeAt(i) === QUOTE) {
        blank = false;
        const qline = line;
        i++;
        // Copy the runs between quotes (one slice each), never one character at a time.
        const parts: string[] = [];
        for (;;) {
          const q = text.indexOf('"', i);
          if (q < 0) throw new KilnError(`${file}: line ${qline}, column ${fields.length + 1}: quoted field is not closed before the end of the file`);
          for (let k = text.indexOf('\n', i); k >= 0 && k < q; k = text.indexOf('\n', k + 1)) line++;
          parts.push(text.slice(i, q));
          if (text.charCodeAt(q + 1) === QUOTE) {
            parts.push('"');
            i = q + 2;
            continue;
          }
          i = q + 1;
          break;
        }
        value = parts.length === 1 ? parts[0] : parts.join('');
        if (i < n && text[i] !== delim && text[i] !== '\n' && text[i] !== '\r') {
          throw new KilnError(`${file}: line ${line}, column ${fields.length + 1}: unexpected character ${JSON.stringify(text[i])} after a closing quote`);
        }
      } else {
        let j = i;
        while (j < n && text[j] !== delim && text[j] !== '\n' && text[j] !== '\r') j++;
        value = text.slice(i, j);
        if (value.includes('"')) {
          throw new KilnError(`${file}: line ${line}, column ${fields.length + 1}: quote inside an unquoted field (quote the whole field and double the quote)`);
        }
        if (value.length > 0) blank = false;
        i = j;
      }
      fields.push(value);
      if (i < n && text[i] === delim) { blank = false; i++; continue; }
      break;
    }
    // end of record
    if (text[i] === '\r') i++;
    if (text[i] === '\n') i++;
    line++;
    if (!blank) records.push({ line: start, fields });
  }
  return records;
}

const SPECIAL: Record<string, number> = {
  nan: NaN, '+nan': NaN, '-nan': NaN, inf: Infinity, '+inf': Infinity, '-inf': -Infinity,
  infinity: Infinity, '+infinity': Infinity, '-infinity': -Infinity,
};

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * A CSV number, or undefined when `s` is not one (surrounding spaces are allowed). Accepts
 * [+-] digits [. digits] [(e|E) [+-] digits] (at least one mantissa digit, '1.' and '.5' too),
 * and nan/inf/infinity with an optional sign in any case. One left-to-right pass: linear in
 * the length of `s` (a regular expression here backtracked quadratically on a long digit run).
 */
export function parseCsvNumber(s: string): number | undefined {
  const t = s.trim();
  const n = t.length;
  let i = 0;
  let c = t.charCodeAt(0);
  if (c === 0x2b || c === 0x2d) i++;
  let digits = 0;
  while (i < n && isDigit(t.charCodeAt(i))) { i++; digits++; }
  if (i < n && t.charCodeAt(i) === 0x2e) {
    i++;
    while (i < n && isDigit(t.charCodeAt(i))) { i++; digits++; }
  }
  if (digits === 0) return n <= 9 ? SPECIAL[t.toLowerCase()] : undefined;
  c = t.charCodeAt(i);
  if (c === 0x65 || c === 0x45) {
    i++;
    c = t.charCodeAt(i);
    if (c === 0x2b || c === 0x2d) i++;
    const start = i;
    while (i < n && isDigit(t.charCodeAt(i))) i++;
    if (i === start) return undefined;
  }
  return i === n ? Number(t) : undefined;
}

function sortLabels(values: string[]): string[] {
  const nums = values.map(parseCsvNumber);
  if (nums.every((x) => x !== undefined)) {
    return values.map((v, k) => [v, nums[k]!] as const).sort((a, b) => a[1] - b[1]).map((x) => x[0]);
  }
  return [...values].sort();
}

/** Parse CSV text into plain typed arrays (no tensors). See the module comment for the rules. */
export function parseCsvTable(text: string, opts: CsvOptions = {}): CsvTable {
  checkOptions(opts, CSV_KEYS, 'parseCsvTable');
  const file = opts.file ?? '<csv>';
  const records = parseCsvRecords(text, { delimiter: opts.delimiter, file });
  const hasHeader = opts.header ?? true;
  if (hasHeader && records.length === 0) throw new KilnError(`${file}: empty CSV file (no header row)`);
  const width = hasHeader ? records[0].fields.length : records.length > 0 ? records[0].fields.length : 0;
  const names = hasHeader ? records[0].fields.map((s) => s.trim()) : Array.from({ length: width }, (_, k) => `col${k}`);
  const rows = hasHeader ? records.slice(1) : records;
  const seen = new Set<string>();
  for (const nm of names) {
    if (seen.has(nm)) throw new KilnError(`${file}: line ${records[0].line}: duplicate column name '${cut(nm)}'`);
    seen.add(nm);
  }
  for (const r of rows) {
    if (r.fields.length !== width) {
      throw new KilnError(`${file}: line ${r.line}: expected ${width} fields (as in the ${hasHeader ? 'header' : 'first row'}), found ${r.fields.length}`);
    }
  }
  const colName = (k: number) => `'${cut(names[k])}' (${k + 1})`;

  // label column
  let labelIdx = -1;
  if (opts.label !== undefined) {
    labelIdx = typeof opts.label === 'number' ? opts.label : names.indexOf(opts.label);
    if (labelIdx < 0 || labelIdx >= width || !Number.isInteger(labelIdx)) {
      throw new KilnError(`${file}: label column ${JSON.stringify(opts.label)} not found (columns: ${briefList(names)})`);
    }
  }

  // feature columns
  let featIdx: number[];
  if (opts.features) {
    featIdx = opts.features.map((f) => {
      const k = names.indexOf(f);
      if (k < 0) throw new KilnError(`${file}: feature column '${f}' not found (columns: ${briefList(names)})`);
      if (k === labelIdx) throw new KilnError(`${file}: column '${f}' is the label and cannot also be a feature`);
      return k;
    });
  } else {
    featIdx = names.map((_, k) => k).filter((k) => k !== labelIdx);
  }
  for (const nm of Object.keys(opts.columnTypes ?? {})) {
    if (!names.includes(nm)) throw new KilnError(`${file}: columnTypes names column '${nm}', which the file does not have`);
  }
  const types: ColumnType[] = featIdx.map((k) => {
    const given = opts.columnTypes?.[names[k]];
    if (given !== undefined) {
      if (given !== 'number' && given !== 'category' && given !== 'ignore') {
        throw new KilnError(`columnTypes: type for '${cut(names[k])}' must be 'number', 'category' or 'ignore', got ${String(given)}`);
      }
      return given;
    }
    let anyNumber = false;
    for (const r of rows) {
      if (parseCsvNumber(r.fields[k]) !== undefined) { anyNumber = true; break; }
    }
    return anyNumber || rows.length === 0 ? 'number' : 'category';
  });
  const keep = featIdx.map((k, j) => [k, types[j]] as const).filter(([, t]) => t !== 'ignore');
  const F = keep.length;
  const N = rows.length;
  const features = new Float32Array(N * F);
  const categories: Record<string, string[]> = {};
  keep.forEach(([k, t], j) => {
    if (t === 'category') {
      const vals = [...new Set(rows.map((r) => r.fields[k]))].sort();
      categories[names[k]] = vals;
      const id = new Map(vals.map((v, q) => [v, q]));
      rows.forEach((r, i) => { features[i * F + j] = id.get(r.fields[k])!; });
    } else {
      rows.forEach((r, i) => {
        const s = r.fields[k];
        let v = parseCsvNumber(s);
        if (v === undefined) {
          if (s.trim() === '' && opts.allowMissing) v = NaN;
          else {
            throw new KilnError(
              `${file}: line ${r.line}, column ${colName(k)}: ${s.trim() === '' ? 'empty value' : `value ${brief(s)} is not a number`}` +
                (s.trim() === '' ? ' (pass allowMissing: true to read it as NaN)' : ''),
            );
          }
        }
        features[i * F + j] = v;
      });
    }
  });

  const out: CsvTable = {
    features,
    numRows: N,
    columns: keep.map(([k]) => names[k]),
    columnTypes: keep.map(([, t]) => t),
    categories,
  };
  if (labelIdx >= 0) {
    out.labelColumn = names[labelIdx];
    const raw = rows.map((r) => r.fields[labelIdx].trim());
    const nums = raw.map(parseCsvNumber);
    let mode = opts.labelType ?? 'auto';
    if (opts.classes) mode = 'class';
    if (mode === 'auto') {
      if (nums.every((x) => x !== undefined && Number.isInteger(x) && Math.abs(x) <= 2147483647)) {
        out.labels = Int32Array.from(nums as number[]);
      } else if (nums.every((x) => x !== undefined)) {
        out.labels = Float32Array.from(nums as number[]);
      } else {
        mode = 'class';
      }
    } else if (mode === 'number') {
      const a = new Float32Array(N);
      raw.forEach((s, i) => {
        const v = nums[i];
        if (v === undefined) throw new KilnError(`${file}: line ${rows[i].line}, column ${colName(labelIdx)}: label ${brief(s)} is not a number`);
        a[i] = v;
      });
      out.labels = a;
    } else if (mode !== 'class') {
      throw new KilnError(`labelType: expected 'auto', 'class' or 'number', got ${String(mode)}`);
    }
    if (mode === 'class') {
      const classes = opts.classes ? [...opts.classes] : sortLabels([...new Set(raw)]);
      const id = new Map(classes.map((c, q) => [c, q]));
      if (id.size !== classes.length) throw new KilnError(`classes: duplicate class name in ${JSON.stringify(classes)}`);
      const a = new Int32Array(N);
      raw.forEach((s, i) => {
        const q = id.get(s);
        if (q === undefined) throw new KilnError(`${file}: line ${rows[i].line}, column ${colName(labelIdx)}: label ${brief(s)} is not one of the given classes`);
        a[i] = q;
      });
      out.labels = a;
      out.classes = classes;
    }
  }
  return out;
}

/** Parse CSV text into tensors. See the module comment for the rules. */
export function parseCsv(text: string, opts: CsvOptions = {}): CsvData {
  checkOptions(opts, CSV_KEYS, 'parseCsv');
  const t = parseCsvTable(text, opts);
  const features = tensor(t.features, { dtype: 'float32', shape: [t.numRows, t.columns.length], device: opts.device });
  const out: CsvData = {
    features,
    columns: t.columns,
    columnTypes: t.columnTypes,
    categories: t.categories,
  };
  if (t.labels) {
    out.labels = tensor(t.labels, {
      dtype: t.labels instanceof Int32Array ? 'int32' : 'float32',
      shape: [t.numRows],
      device: opts.device,
    });
    out.labelColumn = t.labelColumn;
  }
  if (t.classes) out.classes = t.classes;
  return out;
}

/** Read a CSV file (UTF-8) into tensors. Errors name the file and line. */
export async function readCsv(path: string, opts: CsvOptions = {}): Promise<CsvData> {
  checkOptions(opts, CSV_KEYS, 'readCsv');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new KilnError(`${path}: cannot read CSV file (${(e as Error).message})`);
  }
  return parseCsv(text, { ...opts, file: opts.file ?? path });
}
