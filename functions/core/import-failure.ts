/**
 * A failure of a whole import, phrased for the bureau. The file readers raise it for a file they
 * cannot read, and the import pipeline records it as the import's outcome.
 */
export class ImportFailure extends Error {
  override readonly name = 'ImportFailure';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
