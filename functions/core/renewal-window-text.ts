import type { RenewalWindow, Span } from './model.js';

/** A span as a clerk says it: 30日, 3个月, 30个工作日. */
function spanWords(span: Span): { count: number; unit: string } {
  if ('days' in span) return { count: span.days, unit: '日' };
  if ('months' in span) return { count: span.months, unit: '个月' };
  return { count: span.workingDays, unit: '个工作日' };
}

/**
 * A renewal window in the words of the regulations bureaus read (到期前30日, 到期前90日内,
 * 到期前60至30日), so a clerk checks it against the text without reading JSON.
 */
export function renewalWindowInWords(window: RenewalWindow | null): string {
  if (window === null) return '未规定 / none stated';
  if ('beforeDeadline' in window) return '期限届满前';
  if (window.semantics === 'between') {
    const from = spanWords(window.from);
    const to = spanWords(window.to);
    return from.unit === to.unit ? `到期前${from.count}至${to.count}${to.unit}` : `到期前${from.count}${from.unit}至${to.count}${to.unit}`;
  }
  const { count, unit } = spanWords(window);
  return `到期前${count}${unit}${window.semantics === 'withinBefore' ? '内' : ''}`;
}
