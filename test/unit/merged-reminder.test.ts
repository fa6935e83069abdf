import { describe, expect, it } from 'vitest';
import { checkMergedTemplate, DEFAULT_MERGED_TEMPLATE, MERGE_SEGMENT_LIMIT, renderMergedReminder } from '../../functions/core/merged-reminder.js';
import type { ReminderInput } from '../../functions/core/sms.js';
import { TemplateError } from '../../functions/core/templates.js';

function pesticide(n: number): ReminderInput {
  return {
    typeName: '农药经营许可证',
    number: `TEST-00000${n}`,
    stage: 'first',
    expiresOn: '2026-12-20',
    renewalDeadline: '2026-09-21',
    windowOpens: null,
    deadlinePassed: false,
    action: '延续',
    renewalPlace: '兴国县政务服务中心',
    sendOn: '2026-08-21',
  };
}

describe('Module: merged-reminder', () => {
  describe('Function: renderMergedReminder', () => {
    it('lists every certificate with its number and dates in one text behind the signature', () => {
      // Act
      const rendered = renderMergedReminder({ items: [pesticide(1), pesticide(2), pesticide(3)] });

      // Assess
      expect(rendered.body).toBe(
        '【兴国县行政审批局】您名下3本证照即将到期：农药经营许可证（编号TEST-000001）2026年12月20日到期，请在2026年9月21日（含）前办理延续；' +
          '农药经营许可证（编号TEST-000002）2026年12月20日到期，请在2026年9月21日（含）前办理延续；' +
          '农药经营许可证（编号TEST-000003）2026年12月20日到期，请在2026年9月21日（含）前办理延续。',
      );
      expect(rendered.segments).toBeLessThanOrEqual(MERGE_SEGMENT_LIMIT);
    });

    it('goes past the merge limit with a fourth certificate, so those go out separately', () => {
      // Act
      const rendered = renderMergedReminder({ items: [1, 2, 3, 4].map(pesticide) });

      // Assess
      expect(rendered.segments).toBeGreaterThan(MERGE_SEGMENT_LIMIT);
    });

    it('adds the help line only where it costs no extra segment', () => {
      // Act
      const two = renderMergedReminder({ items: [pesticide(1), pesticide(2)], helpPhone: '0797-5321234' });
      const three = renderMergedReminder({ items: [1, 2, 3].map(pesticide), helpPhone: '0797-5321234' });

      // Assess
      expect(two.body.endsWith('咨询电话0797-5321234')).toBe(true);
      expect(three.segments).toBe(renderMergedReminder({ items: [1, 2, 3].map(pesticide) }).segments);
    });
  });

  describe('Function: checkMergedTemplate', () => {
    it('accepts the default texts', () => {
      // Assess
      expect(() => checkMergedTemplate(DEFAULT_MERGED_TEMPLATE)).not.toThrow();
    });

    it('refuses a merged text without {items} or an item without {number}, saying why in both languages', () => {
      // Assess
      expect(() => checkMergedTemplate({ ...DEFAULT_MERGED_TEMPLATE, template: '您名下{count}本证照即将到期' })).toThrow(TemplateError);
      expect(() => checkMergedTemplate({ ...DEFAULT_MERGED_TEMPLATE, itemTemplate: '{typeName}即将到期' })).toThrow(/\{number\}/);
      expect(() => checkMergedTemplate({ ...DEFAULT_MERGED_TEMPLATE, template: '{items}{holder}' })).toThrow(/unknown placeholder \{holder\}/);
    });
  });
});
