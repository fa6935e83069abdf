/**
 * Who may act on a campaign: operators on every campaign; a bureau on the campaigns whose types it
 * issues (the agriculture authority for farm machinery); viewers only read. Pure, like access.ts.
 */
import type { Decision, Principal } from '../access.js';

/** May the caller change this campaign's bookings and attendance? `authorityOf` names each type's issuer. */
export function mayManageCampaign(principal: Principal, campaign: { id: string; types: readonly string[] }, authorityOf: (type: string) => string | undefined): Decision {
  if (principal.role === 'operator') return { allowed: true };
  if (principal.role === 'viewer') return { allowed: false, reason: '只读账号不能修改上门服务活动 / a viewer token is read-only' };
  const foreign = campaign.types.filter((type) => authorityOf(type) !== principal.authority);
  if (foreign.length === 0) return { allowed: true };
  return {
    allowed: false,
    reason:
      `活动 ${campaign.id} 含有非本单位签发的证照类型（${foreign.join('、')}），本账号不能修改 / ` +
      `campaign ${campaign.id} covers types not issued by ${principal.authority ?? '(none)'} (${foreign.join(', ')}); this token may not change it`,
  };
}
