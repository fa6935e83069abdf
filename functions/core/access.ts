/**
 * Who may do what. A bureau is one issuing authority and touches only the certificate types it issues;
 * an operator reads everything and changes rules; a viewer only reads. Pure: the transport decides
 * who the caller is (a local bearer token, or the claims of the AWS authorizer).
 */
export type Role = 'operator' | 'bureau' | 'viewer';

export interface Principal {
  role: Role;
  /** The issuing authority's code; present exactly when role is 'bureau'. */
  authority?: string;
  /** Who this is, for the audit trail (a token id, or the JWT subject). */
  subject: string;
}

export type Action =
  | 'readCertificates'
  | 'writeCertificates'
  | 'runScans'
  | 'readOutbox'
  | 'manageTokens'
  | 'changeRules'
  | 'readImports'
  | 'loadCalendar'
  | 'readAudit'
  | 'runPurges'
  | 'revealHolderIds'
  | 'readDeliveries'
  | 'readCampaigns'
  | 'manageCampaigns'
  /** Feed an SMS reply in by hand (local mode; on AWS SNS two-way SMS delivers replies to a function). */
  | 'receiveInboundSms'
  /** Who opted out: operators see the whole list, a bureau the numbers of its own holders. */
  | 'readSuppressions'
  /** Take a number off the suppression list (audited). */
  | 'reinstateSuppressions';

export type Decision = { allowed: true } | { allowed: false; reason: string };

const ALLOW: Decision = { allowed: true };

function deny(reason: string): Decision {
  return { allowed: false, reason };
}

/** May the caller perform `action` at all (before looking at which certificate types it touches)? */
export function mayPerform(principal: Principal, action: Action): Decision {
  switch (action) {
    case 'readCertificates':
    case 'readImports':
    case 'readCampaigns':
      return ALLOW;
    case 'manageCampaigns':
      return principal.role === 'viewer' ? deny('只读账号不能管理上门服务活动 / a viewer token is read-only') : ALLOW;
    case 'writeCertificates':
      return principal.role === 'viewer' ? deny('只读账号不能上传证照 / a viewer token is read-only') : ALLOW;
    // Who was told what: the bureau that issued the certificate, and operators; a viewer token has no bureau to scope it.
    case 'readDeliveries':
      return principal.role === 'viewer' ? deny('只有发证部门和运维人员可以查看短信投递记录 / only a bureau or an operator may read deliveries') : ALLOW;
    // Who opted out is personal data like who was told what, and a viewer token has no bureau to scope it.
    case 'readSuppressions':
      return principal.role === 'viewer' ? deny('只有发证部门和运维人员可以查看退订名单 / only a bureau or an operator may read the suppression list') : ALLOW;
    case 'runScans':
    case 'readOutbox':
    case 'manageTokens':
    case 'changeRules':
    case 'loadCalendar':
    case 'readAudit':
    case 'runPurges':
    case 'revealHolderIds':
    case 'receiveInboundSms':
    case 'reinstateSuppressions':
      return principal.role === 'operator' ? ALLOW : deny(`只有运维人员（operator）可以执行此操作 / only an operator may ${action}`);
  }
}

/** May the caller read or write certificates of a type issued by `typeAuthority`? */
export function mayTouchType(principal: Principal, typeCode: string, typeAuthority: string): Decision {
  if (principal.role !== 'bureau') return ALLOW;
  if (principal.authority === typeAuthority) return ALLOW;
  return deny(
    `证照类型 ${typeCode} 由 ${typeAuthority} 签发，本账号只能访问 ${principal.authority ?? '（无）'} 签发的证照 / ` +
      `${typeCode} is issued by ${typeAuthority}; this token may only touch certificates issued by ${principal.authority ?? '(none)'}`,
  );
}

/** The type codes a caller may see, or undefined for all of them. */
export function visibleTypes(principal: Principal, types: ReadonlyArray<{ code: string; authority: string }>): string[] | undefined {
  if (principal.role !== 'bureau') return undefined;
  return types.filter((t) => t.authority === principal.authority).map((t) => t.code);
}

/**
 * May the caller see that a holder of these certificate types opted out? Operators see every entry; a
 * bureau only the numbers holding a certificate of a type it issues (its own holders); a viewer none.
 */
export function maySeeSuppression(principal: Principal, heldTypes: ReadonlySet<string>, types: ReadonlyArray<{ code: string; authority: string }>): boolean {
  if (principal.role === 'operator') return true;
  if (principal.role !== 'bureau') return false;
  return types.some((t) => t.authority === principal.authority && heldTypes.has(t.code));
}

/**
 * May the caller manage a campaign covering these types? Operators manage every campaign; a bureau
 * only one whose every type it issues (the agriculture authority's farm-machine types).
 */
export function mayManageCampaign(principal: Principal, types: ReadonlyArray<{ code: string; authority: string }>): Decision {
  for (const type of types) {
    const decision = mayTouchType(principal, type.code, type.authority);
    if (!decision.allowed) return decision;
  }
  return ALLOW;
}
