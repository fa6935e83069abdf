/** Errors say whether to retry: a retry policy reads the type, never the message text. */
export class RetryableSendError extends Error {
  override readonly name = 'RetryableSendError';
  readonly retryable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export class PermanentSendError extends Error {
  override readonly name = 'PermanentSendError';
  readonly retryable = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Reference data that fails its schema: the service must not start on it. */
export class ReferenceDataError extends Error {
  override readonly name = 'ReferenceDataError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A paging cursor this service did not issue (or that was altered). */
export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';
  constructor() {
    super('cursor is not one this service issued; start again without it');
  }
}
