/**
 * How much an uploaded spreadsheet may make the service hold, inflate or write, whatever its size on
 * disk. A few kilobytes of ZIP can inflate to gigabytes, and one XML text node can be a whole part:
 * without these bounds one hostile file exhausts memory or the temporary directory. Each bound is a
 * setting (`CERTALARM_IMPORT_MAX_…`, see settings.ts); the defaults leave room for a real
 * 2,000,000-row workbook (the most rows an import takes) and refuse a bomb within its first
 * hundred megabytes.
 */
export interface SpreadsheetLimits {
  /** xlsx: bytes inflated from all entries of the ZIP together, read or skipped. */
  maxInflatedBytes: number;
  /** xlsx: bytes inflated from any one entry (a sheet copied to the temporary directory included). */
  maxPartBytes: number;
  /** xlsx: inflated bytes per compressed byte, checked once `ratioFloorBytes` have been inflated. */
  maxInflationRatio: number;
  /** xlsx: the inflated size below which the ratio is not checked (small parts compress very well). */
  ratioFloorBytes: number;
  /** Characters in one cell (Excel's own limit is 32,767). */
  maxCellChars: number;
  /** Columns in one row (Excel's own limit is 16,384, column XFD). */
  maxColumns: number;
  /** xlsx: entries of the shared-strings table, which is held in memory. */
  maxSharedStrings: number;
  /** xlsx: characters of all shared strings together. */
  maxSharedStringChars: number;
}

const MiB = 1024 * 1024;

/**
 * Measured: 100,000 rows of the eight import columns, written with shared strings as Excel writes
 * them, inflate to 47 MB (34 MB of sheet, 13 MB and 400,000 entries of shared strings) at 8 to 1.
 * So 2,000,000 rows need about 1 GB, 700 MB of it in the sheet part, and 8,000,000 shared strings of
 * about 110 million characters. Deflate cannot exceed about 1,030 to 1, which is what bombs use;
 * no real part comes near 100 to 1 over tens of megabytes.
 */
export const DEFAULT_SPREADSHEET_LIMITS: SpreadsheetLimits = {
  maxInflatedBytes: 2048 * MiB,
  maxPartBytes: 1536 * MiB,
  maxInflationRatio: 100,
  ratioFloorBytes: 64 * MiB,
  maxCellChars: 32_767,
  maxColumns: 16_384,
  maxSharedStrings: 10_000_000,
  maxSharedStringChars: 256 * MiB,
};
