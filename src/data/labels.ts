/**
 * Class labels of tabular data: split a label column off a data matrix and map label values to class indices.
 * @module
 */
import { Tensor } from '../tensor/tensor.js';
import { DataError } from '../io/errors.js';
import type { Dataset } from './spec.js';
import { InvalidArgumentError } from '../errors.js';

/**
 * Finds a column by header name or 1-based index (`"label"`, `"3"`); `null` when there is no such column.
 * @example findColumn(['x1', 'x2', 'y'], 'y', 3) // 2
 */
export function findColumn(header: readonly string[] | undefined, column: string, cols: number): number | null {
  const byName = header ? header.indexOf(column) : -1;
  if (byName >= 0) return byName;
  if (/^\d+$/.test(column)) {
    const j = Number(column) - 1;
    if (j >= 0 && j < cols) return j;
  }
  return null;
}

/**
 * Splits column `j` off rows `x [n, d]`: returns the other columns `[n, d − 1]` and the column's values. Every value
 * must be an integer (class labels), else a {@link DataError} names the row and column.
 * @example const { x: feats, values } = splitLabelColumn(x, 2, 'train.csv')
 */
export function splitLabelColumn(x: Tensor, j: number, file?: string): { x: Tensor; values: Float64Array } {
  if (x.ndim !== 2) throw new InvalidArgumentError(`splitLabelColumn: x must be [n, d], got [${x.shape.join(', ')}]`);
  const [n, d] = x.shape;
  if (!(Number.isInteger(j) && j >= 0 && j < d)) throw new InvalidArgumentError(`splitLabelColumn: column ${j} is not in [0, ${d})`);
  if (d < 2) throw new DataError('has only the label column, no features', file ? { file } : {});
  const out = new Float32Array(n * (d - 1));
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = x.data[i * d + j];
    if (!Number.isInteger(v)) throw new DataError(`label "${v}" is not an integer class label`, { ...(file ? { file } : {}), row: i + 1, column: j + 1 });
    values[i] = v;
    let c = i * (d - 1);
    for (let k = 0; k < d; k++) if (k !== j) out[c++] = x.data[i * d + k];
  }
  return { x: new Tensor(out, [n, d - 1]), values };
}

/**
 * Maps label values to class indices `0 … K−1`. With `classes` (the label value of each class, from training) every
 * value must be one of them (else a {@link DataError} naming the row); without, the classes are the distinct values
 * in increasing order.
 * @example labelsToClasses([7, 3, 7]) // { classes: [3, 7], y: Int32Array [1, 0, 1] }
 */
export function labelsToClasses(values: ArrayLike<number>, classes?: readonly number[]): { classes: number[]; y: Int32Array } {
  const cls = classes ? [...classes] : [...new Set(Array.from(values))].sort((a, b) => a - b);
  const index = new Map(cls.map((c, i) => [c, i]));
  const y = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const k = index.get(values[i]);
    if (k === undefined) throw new DataError(`label ${values[i]} at row ${i + 1} is not one of the model's classes (${cls.join(', ')})`);
    y[i] = k;
  }
  return { classes: cls, y };
}

/**
 * The data with its labels: `labelColumn` (CSV: a header name or 1-based index) is split off the rows; sources that
 * carry labels (MNIST, Fashion-MNIST, digits) keep theirs. Errors are {@link DataError}s naming the flag (exit 2).
 */
export function withLabelColumn(data: Dataset, labelColumn: string | undefined, flag = '--label-column'): Dataset {
  if (labelColumn === undefined) return data;
  if (data.labels) throw new DataError(`${flag} ${labelColumn}: data ${data.spec} carries its own labels (use ${flag} with CSV data)`);
  const j = findColumn(data.header, labelColumn, data.cols);
  if (j === null) {
    const have = data.header ? `columns: ${data.header.join(', ')}` : `columns 1…${data.cols}, no header`;
    throw new DataError(`${flag} ${labelColumn}: no such column in ${data.spec} (${have})`);
  }
  const { x, values } = splitLabelColumn(data.x, j, data.spec);
  const header = data.header?.filter((_, k) => k !== j);
  const { header: _h, ...rest } = data;
  return { ...rest, x, cols: x.shape[1], labels: Int32Array.from(values), binary: false, ...(header ? { header } : {}) };
}
