/**
 * A send of which the broker refused some records as too large (MESSAGE_TOO_LARGE) even
 * alone in a request, while it acknowledged all the others. The pipeline dead-letters
 * `records` (RECORD_TOO_LARGE) instead of stopping: no input may stop the stream.
 */
import { TeacherlmError } from '../errors.js';
import type { OutRecord } from './ports.js';

export class RecordsRefused extends TeacherlmError {
  constructor(
    /** The refused records, the very objects given to `send`. */
    readonly records: OutRecord[],
    message: string,
    cause?: unknown,
  ) {
    super('RECORD_TOO_LARGE', message, { cause, retriable: false });
  }
}
