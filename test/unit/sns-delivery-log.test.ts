import { describe, expect, it } from 'vitest';
import { receiptsFromLogsEvent, UnreadableLogsEventError } from '../../functions/adapters/aws/sns-delivery-log.js';
import { logsSubscriptionEvent, snsDeliveryRecord } from '../support/logs-events.js';

describe('Adapter: receiptsFromLogsEvent', () => {
  it('reads SUCCESS as delivered and FAILURE as failed with the provider response', () => {
    // Prepare
    const event = logsSubscriptionEvent([
      snsDeliveryRecord('34d9b400-c6dd-5444-820d-fbeb0f1f54cf', 'SUCCESS', 'Message has been accepted by phone carrier'),
      snsDeliveryRecord('1077257a-92f3-5ca3-bc97-6a915b310625', 'FAILURE', 'Unknown error attempting to reach phone'),
    ]);

    // Act
    const read = receiptsFromLogsEvent(event);

    // Assess
    expect(read).toEqual({
      unreadable: 0,
      receipts: [
        { messageId: '34d9b400-c6dd-5444-820d-fbeb0f1f54cf', status: 'delivered', at: '2026-09-14T01:00:04.558Z' },
        { messageId: '1077257a-92f3-5ca3-bc97-6a915b310625', status: 'failed', reason: 'Unknown error attempting to reach phone', at: '2026-09-14T01:00:04.558Z' },
      ],
    });
  });

  it('has no receipts in CloudWatch’s control message', () => {
    // Act
    const read = receiptsFromLogsEvent(logsSubscriptionEvent(['CWL CONTROL MESSAGE: Checking health of destination Lambda.'], { messageType: 'CONTROL_MESSAGE' }));

    // Assess
    expect(read).toEqual({ receipts: [], unreadable: 0 });
  });

  it('counts a log line that is not an SNS delivery record, and keeps reading', () => {
    // Act
    const read = receiptsFromLogsEvent(logsSubscriptionEvent(['not json', JSON.stringify({ status: 'MAYBE' }), snsDeliveryRecord('m-1', 'SUCCESS', 'ok')]));

    // Assess
    expect(read.unreadable).toBe(2);
    expect(read.receipts.map((r) => r.messageId)).toEqual(['m-1']);
  });

  it.each([
    ['an event of another source', { Records: [] }],
    ['data that is not gzip', { awslogs: { data: Buffer.from('plain').toString('base64') } }],
  ])('refuses %s with a named error', (_what, event) => {
    // Act
    const read = () => receiptsFromLogsEvent(event);

    // Assess
    expect(read).toThrow(UnreadableLogsEventError);
  });
});
