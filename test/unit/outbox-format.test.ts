import { describe, expect, it } from 'vitest';
import { formatOutboxLine } from '../../functions/adapters/local/outbox-format.js';
import type { OutboxEntry } from '../../functions/adapters/local/outbox-sms-sender.js';

const ENTRY: OutboxEntry = {
  messageId: 'local-1',
  idempotencyKey: 'pesticide_business_license#TEL13912345678#2026-12-20#first',
  to: '+8613900000001',
  type: 'pesticide_business_license',
  number: 'TEL13912345678',
  stage: 'first',
  expiresOn: '2026-12-20',
  renewalDeadline: '2026-09-21',
  body: '【兴国县行政审批局】您的农药经营许可证（编号TEL13912345678）将于2026年12月20日到期。',
  segments: 1,
  sentAt: '2026-08-24T09:00:00.000+08:00',
};

describe('Function: formatOutboxLine', () => {
  it('masks a phone-like digit run inside the printed body, as the structured log does', () => {
    // Act
    const line = formatOutboxLine(ENTRY);

    // Assess
    expect(line).not.toContain('13912345678');
    expect(line).toContain('编号TEL139****5678');
    expect(line).toContain('→ +86139****0001');
  });

  it('prints a body without phone-like digits as it was sent', () => {
    // Act
    const line = formatOutboxLine({ ...ENTRY, number: 'HX-PEST-0001', body: '【兴国县行政审批局】您的农药经营许可证（编号HX-PEST-0001）。' });

    // Assess
    expect(line).toContain('\n  【兴国县行政审批局】您的农药经营许可证（编号HX-PEST-0001）。');
  });
});
