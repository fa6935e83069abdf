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

/**
 * The provider says the recipient opted out of its messages (SNS `OptedOut`). Permanent, like any refusal,
 * but told apart by its type: the use case, not the adapter, decides that the number goes on our list.
 * `to` is the E.164 number the send was for; the message masks it.
 */
export class OptedOutSendError extends PermanentSendError {
  readonly optedOut = true;
  constructor(
    message: string,
    readonly to: string,
    options?: { cause?: unknown },
  ) {
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

/** A paging cursor this service did not issue, or issued for another query or caller, or too long ago. */
export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';
  constructor(message = '翻页游标不是本服务签发的，请去掉 cursor 从第一页重新开始 / the cursor is not one this service issued; start again without it') {
    super(message);
  }
}
