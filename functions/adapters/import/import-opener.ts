import type { Readable } from 'node:stream';
import type { SpreadsheetLimits } from '../../core/import-limits.js';
import { ImportFailure } from '../../core/import-failure.js';
import type { OpenedSpreadsheet, SpreadsheetOpener } from '../../core/ports.js';
import { openSpreadsheet, SpreadsheetError } from './spreadsheet-reader.js';

/**
 * Opens an import's stored file as a spreadsheet, wherever it is kept. The reader's own errors (not a
 * spreadsheet, no header, unknown sheet, a broken quote…) are final: the import fails with the reader's
 * message. Errors of the byte source (disk, S3, the network) pass on unchanged and stay retryable.
 */
export function spreadsheetOpener(
  source: (blobKey: string) => { path: string } | { stream: () => Readable },
  bounds: { maxBytes?: number; limits?: SpreadsheetLimits } = {},
): SpreadsheetOpener {
  const { maxBytes, limits } = bounds;
  return async (blobKey, options) => {
    try {
      const sheet = await openSpreadsheet(source(blobKey), {
        ...(options.fileName.toLowerCase().endsWith('.xlsx') || options.contentType.includes('spreadsheetml') ? { format: 'xlsx' as const } : {}),
        ...(options.encoding !== undefined ? { encoding: options.encoding as 'utf-8' | 'gb18030' | 'gbk' } : {}),
        ...(options.sheet !== undefined ? { sheet: options.sheet } : {}),
        ...(maxBytes !== undefined ? { maxBytes } : {}),
        ...(limits !== undefined ? { limits } : {}),
      });
      const opened: OpenedSpreadsheet = {
        format: sheet.format,
        headers: sheet.headers,
        rows: failOnUnreadableRows(sheet.rows),
        close: () => sheet.close(),
        ...(sheet.encoding !== undefined ? { encoding: sheet.encoding } : {}),
        ...(sheet.sheet !== undefined ? { sheet: sheet.sheet } : {}),
      };
      return opened;
    } catch (error) {
      throw asImportFailure(error);
    }
  };
}

function asImportFailure(error: unknown): unknown {
  return error instanceof SpreadsheetError ? new ImportFailure(error.code, error.message) : error;
}

async function* failOnUnreadableRows<T>(rows: AsyncIterable<T>): AsyncIterable<T> {
  try {
    yield* rows;
  } catch (error) {
    throw asImportFailure(error);
  }
}
