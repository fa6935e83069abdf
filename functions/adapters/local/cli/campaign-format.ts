/** Text views of the campaign routes for the CLI, Chinese first; `--json` prints the answers as they are. */
import stringWidth from 'string-width';
import type * as z from 'zod';
import type {
  bookingContract,
  campaignContract,
  campaignDetailContract,
  campaignEditContract,
  campaignEditPreviewContract,
  campaignReportContract,
  visitContract,
} from '../../../contracts/api/campaigns.js';
import { instantInShanghai } from '../../../core/time.js';

export type CampaignView = z.infer<typeof campaignContract>;
export type VisitView = z.infer<typeof visitContract>;
export type CampaignDetailView = z.infer<typeof campaignDetailContract>;
export type CampaignReportView = z.infer<typeof campaignReportContract>;
export type BookingView = z.infer<typeof bookingContract>;
export type CampaignEditView = z.infer<typeof campaignEditContract>;
export type CampaignEditPreviewView = z.infer<typeof campaignEditPreviewContract>;

const STATE_WORDS = { scheduled: '已安排 scheduled', moved: '已改期 moved', cancelled: '已取消 cancelled' } as const;

function padToWidth(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - stringWidth(text)));
}

/** Columns aligned by display width (a Chinese character takes two terminal columns). */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(stringWidth(title), ...rows.map((row) => stringWidth(row[column] ?? ''))));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : padToWidth(cell, widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** An instant as a clerk reads it: Beijing wall-clock time, to the minute. */
export function beijing(iso: string): string {
  const at = instantInShanghai(iso);
  return at.isValid ? at.toFormat('yyyy-MM-dd HH:mm') : iso;
}

export function campaignListText(campaigns: readonly CampaignView[]): string {
  if (campaigns.length === 0) return '还没有活动 / no campaigns yet: create one with `certalarm campaign create FILE`';
  return table(
    ['id', '名称 name', '季节 season', '证照类型 types', '通知 notice'],
    campaigns.map((c) => [c.id, c.name, `${c.season.from} … ${c.season.to}`, c.types.join(', '), `提前${c.noticeDaysBefore}天 / ${c.noticeDaysBefore} days before`]),
  );
}

export function campaignText(campaign: CampaignDetailView): string {
  const head = [
    `${campaign.name}  (${campaign.id})`,
    `  季节 season:        ${campaign.season.from} … ${campaign.season.to}`,
    `  证照类型 types:     ${campaign.types.join(', ')}`,
    ...campaign.blackouts.map((b) => `  不安排 blackout:    ${b.from} … ${b.to}  ${b.reason}`),
    `  预约通知 notice:    上门前${campaign.noticeDaysBefore}天 / ${campaign.noticeDaysBefore} days before; 提醒 reminder: 前${campaign.reminderDaysBefore}天 / ${campaign.reminderDaysBefore} day(s) before`,
    `  创建 created:       ${beijing(campaign.createdAt)} by ${campaign.createdBy}`,
  ];
  if (campaign.visits.length === 0) return [...head, '', '还没有上门安排 / no visits yet: add one with `certalarm campaign visit add ID FILE`'].join('\n');
  const visits = table(
    ['visit', '日期 date', '乡镇 township', '地点 place', '场次 slots', '已约 booked', '通知 notice at', '状态 state'],
    [...campaign.visits]
      .sort((a, b) => a.date.localeCompare(b.date))
      .map((v) => [
        v.id,
        v.date,
        v.township.nameZh,
        v.place,
        v.slots.map((s) => `${s.number}) ${s.start}-${s.end}`).join(' '),
        `${v.booked}/${v.capacity}`,
        v.state === 'cancelled' ? '—' : beijing(v.noticeAt),
        STATE_WORDS[v.state],
      ]),
  );
  return [...head, '', visits].join('\n');
}

export function visitAddedText(visit: { id: string; noticeAt: string; reminderAt: string }): string {
  return [
    `已添加上门安排 / visit added: ${visit.id}`,
    `  预约通知 booking notice: ${beijing(visit.noticeAt)}`,
    `  前一天提醒 reminder:     ${beijing(visit.reminderAt)} (已预约者 / booked holders)`,
  ].join('\n');
}

export function visitCancelledText(visit: VisitView): string {
  return [
    `已取消上门安排 / visit cancelled: ${visit.id} (${visit.date} ${visit.township.nameZh} ${visit.place})`,
    visit.booked > 0
      ? `  已预约的 ${visit.booked} 人将收到取消短信 / the ${visit.booked} booked holder(s) get a short cancellation SMS`
      : '  无人预约 / nobody had booked',
  ].join('\n');
}

export function reportText(report: CampaignReportView): string {
  if (report.visits.length === 0) return `${report.name}: 还没有上门安排 / no visits yet`;
  return [
    `${report.name}  (${report.campaignId})`,
    table(
      ['日期 date', '乡镇 township', '地点 place', '邀请 invited', '通知 sent/failed', '预约 booked', '到场 attended', '已换证 renewed', '各场 per slot'],
      report.visits.map((v) => [
        v.date,
        v.townshipName,
        v.place,
        String(v.invitedPhones),
        `${v.notices.sent}/${v.notices.failed}`,
        String(v.booked),
        String(v.attended),
        String(v.renewedAfter),
        v.state === 'cancelled'
          ? `已取消 cancelled（取消时 ${v.bookedWhenCancelled} 人已预约 / ${v.bookedWhenCancelled} booked when cancelled）`
          : v.slots.map((s) => `${s.number}) ${s.booked}/${s.capacity}`).join(' '),
      ]),
    ),
  ].join('\n');
}

export function bookingText(booking: BookingView, cancelled = false): string {
  const slot = `第${booking.slot}场 ${booking.start ?? ''}-${booking.end ?? ''}`;
  const line = cancelled
    ? `已取消预约 / booking cancelled: ${booking.id} (${slot})`
    : booking.movedFrom !== undefined
      ? `已改约 / booking moved: ${booking.id} 第${booking.movedFrom}场 → ${slot}`
      : `已预约 / booked: ${booking.id} ${slot} (visit ${booking.visit})`;
  const sms = booking.confirmation === undefined ? [] : [`  确认短信 confirmation SMS: ${CONFIRMATION_WORDS[booking.confirmation] ?? booking.confirmation}`];
  return [line, ...sms].join('\n');
}

const CONFIRMATION_WORDS: Record<string, string> = {
  sent: '已发送 sent',
  unchanged: '未变，不重发 unchanged, not sent again',
  skipped: '已发过 already sent',
  failed: '发送失败 failed',
};

/** What `receiveInboundSms` made of a reply (the answer of `POST /v1/inbound-sms`). */
export function inboundText(outcome: { action: string; slot?: number; bookingId?: string; reason?: string; reply?: string; confirmation?: string }): string {
  switch (outcome.action) {
    case 'booked':
      return `已预约第${outcome.slot ?? '?'}场 / booked slot ${outcome.slot ?? '?'} (${outcome.bookingId ?? ''}); 确认短信 confirmation: ${outcome.confirmation ?? '—'}`;
    case 'moved':
      return `已改约到第${outcome.slot ?? '?'}场 / moved to slot ${outcome.slot ?? '?'} (${outcome.bookingId ?? ''}); 确认短信 confirmation: ${outcome.confirmation ?? '—'}`;
    case 'unchanged':
      return `已是第${outcome.slot ?? '?'}场，未变 / already booked in slot ${outcome.slot ?? '?'}, unchanged`;
    case 'cancelled':
      return `已取消预约 / booking cancelled (${outcome.bookingId ?? ''}); 确认短信 confirmation: ${outcome.confirmation ?? '—'}`;
    case 'full':
      return `该场已满，已回复有空位的场次 / that slot is full; the reply lists the slots with room (${outcome.reply ?? '—'})`;
    case 'help':
      return `未能办理（${outcome.reason ?? ''}），回复帮助短信 / not acted on (${outcome.reason ?? ''}); help reply: ${outcome.reply ?? '—'}`;
    case 'optedOut':
      return `已退订，不再发送短信 / opted out: no more SMS to this number; 确认短信 confirmation: ${outcome.confirmation ?? '—'}`;
    case 'ignored':
      return `已忽略 / ignored: ${outcome.reason ?? ''}`;
    default:
      return JSON.stringify(outcome);
  }
}

function changeLines(changes: CampaignEditView['changes']): string[] {
  const shown = (value: unknown) => (value === null ? '（默认 default）' : typeof value === 'string' ? value : JSON.stringify(value));
  return Object.entries(changes).map(([field, change]) => `  ${field}: ${shown(change.from)} → ${shown(change.to)}`);
}

export function campaignEditText(edit: CampaignEditView): string {
  const retimed = edit.visits.filter((v) => v.retimed.notice || v.retimed.reminder);
  return [
    `已修改活动 / campaign edited: ${edit.id}, 第 ${edit.version} 版 / version ${edit.version}`,
    ...changeLines(edit.changes),
    retimed.length === 0
      ? '  没有需要重排的通知或提醒 / no notice or reminder needed re-timing'
      : table(
          ['visit', '预约通知 notice', '提醒 reminder'],
          retimed.map((v) => [v.id, `${beijing(v.noticeAt)}${v.retimed.notice ? ' *' : ''}`, `${beijing(v.reminderAt)}${v.retimed.reminder ? ' *' : ''}`]),
        ),
    ...(retimed.length > 0 ? ['  * 已重排 / re-timed'] : []),
  ].join('\n');
}

export function campaignEditPreviewText(preview: CampaignEditPreviewView): string {
  const lines = [
    preview.wouldSave
      ? `预览：可以保存 / preview: this edit can be saved (campaign ${preview.id}, version ${preview.version}); nothing was changed`
      : `预览：会被拒绝 / preview: this edit would be refused (campaign ${preview.id}, version ${preview.version}); nothing was changed`,
    ...changeLines(preview.changes),
    ...preview.errors.map((e) => `  ✗ ${e.field || '(body)'}: ${e.reason}`),
  ];
  for (const v of preview.visits) {
    lines.push('', `${v.date} ${v.township.nameZh} (${v.id}) ${STATE_WORDS[v.state as keyof typeof STATE_WORDS] ?? v.state}`);
    if (v.state === 'cancelled') continue;
    lines.push(
      `  预约通知 notice:   ${beijing(v.noticeAt)}${v.noticeSent ? ' (已发出，不再改动 / already sent, unchanged)' : v.retimed.notice ? ' (新时间 / new time)' : ''}`,
      `  提醒 reminder:     ${beijing(v.reminderAt)}${v.retimed.reminder ? ' (新时间 / new time)' : ''}`,
    );
    if (v.sample !== null) lines.push(`  示例 sample → ${v.sample.to} (${v.sample.length} 字 chars, ${v.sample.segments} 条 segments):`, `    ${v.sample.body}`);
    else lines.push('  示例 sample: 该乡镇没有收件人 / no recipient in this township yet');
    for (const problem of v.refused) lines.push(`  ✗ ${problem.field}: ${problem.reason}`);
  }
  return lines.join('\n');
}
