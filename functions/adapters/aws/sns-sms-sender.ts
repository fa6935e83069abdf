import { type MessageAttributeValue, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { OptedOutSendError, PermanentSendError, RetryableSendError } from '../../core/errors.js';
import { maskPhone } from '../../core/phone.js';
import type { SmsMessage, SmsReceipt, SmsSender } from '../../core/ports.js';

export interface SnsSmsSenderOptions {
  /** Reuse one client per cold start; one is created only when none is given. */
  client?: SNSClient;
  /** `AWS.SNS.SMS.SenderID`: 3–11 alphanumerics. For China only a registered sender applies. */
  senderId?: string;
  /** `AWS.SNS.SMS.MaxPrice` in USD, e.g. "0.10": SNS refuses a message that would cost more. */
  maxPrice?: string;
}

/** Rate limits, on SNS or on the KMS key behind it: the same message will go through later. */
const THROTTLING = new Set(['ThrottlingException', 'Throttling', 'ThrottledException', 'KMSThrottlingException', 'TooManyRequestsException']);
/** SNS-side failures that say nothing about the message itself. */
const SERVER_SIDE = new Set(['InternalErrorException', 'InternalFailure', 'ServiceUnavailable', 'InternalServerError']);
/** The request may never have reached SNS (the SDK's timeouts and socket errors). */
const NETWORK = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'NetworkingError']);
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'ENETUNREACH', 'EHOSTUNREACH']);
/**
 * The recipient opted out at SNS: the wire code is `OptedOut`, which the SDK turns into its
 * `OptedOutException` class (an SDK that does not know the code leaves the wire name).
 */
const OPTED_OUT = new Set(['OptedOut', 'OptedOutException']);
/** The number or the request is wrong, or we may not send: resending cannot help. */
const PERMANENT = new Set([
  'InvalidParameterException',
  'InvalidParameterValueException',
  'AuthorizationErrorException',
  'EndpointDisabledException',
  'ValidationException',
  'KMSAccessDeniedException',
  'KMSDisabledException',
  'KMSInvalidStateException',
  'KMSNotFoundException',
  'KMSOptInRequired',
]);

/**
 * Sends one SMS through SNS Publish to a phone number (no topic).
 * Every message is Transactional: reminders are service notices, and Transactional is the type SNS
 * routes for reliability (the account default differs between documents, so it is always set).
 */
export class SnsSmsSender implements SmsSender {
  private readonly client: SNSClient;
  private readonly attributes: Record<string, MessageAttributeValue>;

  constructor(options: SnsSmsSenderOptions = {}) {
    this.client = options.client ?? new SNSClient({});
    this.attributes = {
      'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Transactional' },
      ...(options.senderId !== undefined && options.senderId !== ''
        ? { 'AWS.SNS.SMS.SenderID': { DataType: 'String', StringValue: options.senderId } }
        : {}),
      ...(options.maxPrice !== undefined && options.maxPrice !== ''
        ? { 'AWS.SNS.SMS.MaxPrice': { DataType: 'Number', StringValue: options.maxPrice } }
        : {}),
    };
  }

  async send(message: SmsMessage): Promise<SmsReceipt> {
    let messageId: string | undefined;
    try {
      ({ MessageId: messageId } = await this.client.send(
        new PublishCommand({ PhoneNumber: message.to, Message: message.body, MessageAttributes: this.attributes }),
      ));
    } catch (error) {
      throw classifyPublishError(error, message.to);
    }
    if (messageId === undefined || messageId === '') {
      // Accepted or not is unknown: neither error class fits, so the caller treats it as an unknown outcome.
      throw new Error(`SNS returned no MessageId for the SMS to ${maskPhone(message.to)}`);
    }
    return { messageId };
  }
}

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  $fault?: unknown;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

/** Map an SDK error to the retry decision the core acts on; the original stays as `cause`. */
export function classifyPublishError(error: unknown, to: string): RetryableSendError | PermanentSendError | OptedOutSendError {
  const e = (typeof error === 'object' && error !== null ? error : {}) as SdkErrorShape;
  const name = typeof e.name === 'string' ? e.name : 'UnknownError';
  const code = typeof e.code === 'string' ? e.code : undefined;
  const status = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
  // SNS error messages can quote the number back: mask anything that looks like one.
  const detail = typeof e.message === 'string' ? maskNumbers(e.message) : '';
  const text = `SNS ${name}${status !== undefined ? ` (HTTP ${status})` : ''} for the SMS to ${maskPhone(to)}${detail ? `: ${detail}` : ''}`;

  if (OPTED_OUT.has(name)) return new OptedOutSendError(text, to, { cause: error });
  if (THROTTLING.has(name) || status === 429 || (typeof e.$retryable === 'object' && e.$retryable !== null)) {
    return new RetryableSendError(text, { cause: error });
  }
  if (SERVER_SIDE.has(name) || e.$fault === 'server' || (status !== undefined && status >= 500)) {
    return new RetryableSendError(text, { cause: error });
  }
  if (NETWORK.has(name) || (code !== undefined && NETWORK_CODES.has(code))) {
    return new RetryableSendError(text, { cause: error });
  }
  if (PERMANENT.has(name) || e.$fault === 'client' || (status !== undefined && status >= 400 && status < 500)) {
    return new PermanentSendError(text, { cause: error });
  }
  // No HTTP answer and no known name (e.g. a socket error the SDK did not wrap): SNS never decided on
  // this message, so trying again later is the safe reading.
  return new RetryableSendError(text, { cause: error });
}

function maskNumbers(text: string): string {
  return text.replace(/\+?\d{7,15}/g, (digits) => maskPhone(digits.startsWith('+') ? digits : `+${digits}`));
}
