import { describe, expect, it } from 'vitest';
import { optOutConfirmationText } from '../../functions/core/suppression.js';
import { countSegments } from '../../functions/core/sms.js';

describe('Function: optOutConfirmationText', () => {
  it('fits one segment with the longest signature and help phone the settings allow', () => {
    // Prepare: a signature of 16 characters in its brackets, and a landline with its area code
    const signature = `【${'兴'.repeat(16)}】`;

    // Act
    const text = optOutConfirmationText(signature, '0797-53212345');

    // Assess
    expect(text.segments).toBe(1);
    expect(countSegments(text.body)).toBe(1);
    expect(text.body.startsWith(signature)).toBe(true);
  });

  it('says the number opted out and how to come back, by the help phone when there is one', () => {
    // Act
    const withPhone = optOutConfirmationText('【兴国县行政审批局】', '12345');
    const without = optOutConfirmationText('【兴国县行政审批局】');

    // Assess
    expect(withPhone.body).toBe('【兴国县行政审批局】您已退订本服务的短信提醒，此后不再发送。如需恢复请致电12345。');
    expect(without.body).toBe('【兴国县行政审批局】您已退订本服务的短信提醒，此后不再发送。如需恢复请联系政务服务中心。');
  });
});
