/**
 * The error of a Node-only function called elsewhere (its own module, so that the public type declarations of
 * `ebm-ts` do not reach Node's types: a browser project without `@types/node` type-checks them).
 * @module
 */

import { EbmError, type EbmErrorCode } from '../errors.js';

/** A function that needs Node.js (file system, zlib, `require`) was called outside Node. */
export class NodeOnlyError extends EbmError {
  readonly code: EbmErrorCode = 'NODE_ONLY';
  override name = 'NodeOnlyError';
}
