/** The error type for bad input data and files: its message names where the problem is. */

import { EbmError, type EbmErrorCode } from '../errors.js';

/** Where a data problem was found. Every field is optional; those given are named in the message. */
export interface DataErrorLocation {
  /** File name (or another label for the source, e.g. `stdin`). */
  file?: string;
  /** 1-based line number in a text file (CSV). Rendered as `line N`. */
  line?: number;
  /** 1-based row (record / item) index, for non-text sources. Rendered as `row N`. */
  row?: number;
  /** 1-based column index. Rendered as `column N`. */
  column?: number;
  /** Command-line flag the bad value came from, with or without leading dashes. Rendered as `--flag`. */
  flag?: string;
}

/**
 * Bad input data: an unreadable file, a malformed header, a NaN cell, a ragged row, a bad command-line value.
 * The message is `<file>: line <l>: row <r>: column <c>: --<flag>: <problem>` with only the given parts, so it can be
 * printed on one line as `error: <message>` (the CLI maps DataError to exit code 2).
 * @example new DataError('value "abc" is not a number', { file: 'data.csv', line: 7, column: 3 }).message
 *   // 'data.csv: line 7: column 3: value "abc" is not a number'
 */
export class DataError extends EbmError {
  readonly code: EbmErrorCode = 'DATA';
  override name = 'DataError';
  readonly file?: string;
  readonly line?: number;
  readonly row?: number;
  readonly column?: number;
  readonly flag?: string;
  /** The problem alone, without the location prefix. */
  readonly problem: string;

  constructor(problem: string, where: DataErrorLocation = {}) {
    const parts: string[] = [];
    if (where.file !== undefined) parts.push(where.file);
    if (where.line !== undefined) parts.push(`line ${where.line}`);
    if (where.row !== undefined) parts.push(`row ${where.row}`);
    if (where.column !== undefined) parts.push(`column ${where.column}`);
    if (where.flag !== undefined) parts.push(where.flag.startsWith('-') ? where.flag : `--${where.flag}`);
    parts.push(problem);
    super(parts.join(': '));
    this.problem = problem;
    if (where.file !== undefined) this.file = where.file;
    if (where.line !== undefined) this.line = where.line;
    if (where.row !== undefined) this.row = where.row;
    if (where.column !== undefined) this.column = where.column;
    if (where.flag !== undefined) this.flag = where.flag;
  }
}

/**
 * What went wrong reading or writing a file, for a message such as `cannot read file (ENOENT)`: the system error
 * code of a Node.js file error (`ENOENT`, `EACCES`, `EISDIR`, a zlib `Z_DATA_ERROR`), else the error's message. An
 * ebm-ts error keeps its message although it has a `code` too: a file function called in a browser reads
 * `cannot read file (… needs Node.js …)`, not `(NODE_ONLY)`.
 * @example throw new DataError(`cannot read file (${ioErrorDetail(e)})`, { file: path });
 */
export function ioErrorDetail(e: unknown): string {
  const code = e instanceof EbmError ? undefined : (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : (e as Error).message;
}
