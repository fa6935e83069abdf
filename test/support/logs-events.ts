import { gzipSync } from 'node:zlib';

/** One SNS SMS delivery status record, as SNS writes it to CloudWatch Logs (shape from the SNS documentation). */
export function snsDeliveryRecord(messageId: string, status: 'SUCCESS' | 'FAILURE', providerResponse: string, destination = '+8613900000001'): string {
  return JSON.stringify({
    notification: { messageId, timestamp: '2026-09-14 01:00:04.558' },
    delivery: {
      phoneCarrier: 'China Mobile',
      mnc: 0,
      numberOfMessageParts: 2,
      destination,
      priceInUSD: 0.03,
      smsType: 'Transactional',
      mcc: 460,
      providerResponse,
      dwellTimeMs: 599,
      dwellTimeMsUntilDeviceAck: 1344,
    },
    status,
  });
}

/** A CloudWatch Logs subscription event (`{awslogs: {data}}`, base64 of gzip) carrying these messages. */
export function logsSubscriptionEvent(messages: string[], options: { messageType?: string; logGroup?: string; timestamp?: number } = {}): { awslogs: { data: string } } {
  const payload = {
    messageType: options.messageType ?? 'DATA_MESSAGE',
    owner: '123456789012',
    logGroup: options.logGroup ?? 'sns/ap-southeast-1/123456789012/DirectPublishToPhoneNumber',
    logStream: '0b9ba4b6-1a24-4b33-9a36-9d0f2b4c5e6f',
    subscriptionFilters: ['certalarm-delivery-status'],
    logEvents: messages.map((message, i) => ({ id: `3720${i}`, timestamp: options.timestamp ?? Date.parse('2026-09-14T01:00:04.558Z'), message })),
  };
  return { awslogs: { data: gzipSync(Buffer.from(JSON.stringify(payload))).toString('base64') } };
}
