import type { AuditLog, CampaignMessageLedger, CampaignStore, Clock, DailySendCap, JobStore, Logger, OptOutConfirmations, PhoneHasher, RecipientSource, ScheduleGateway, SmsSender, SuppressionList } from '../../core/ports.js';
import type { ReferenceData } from '../reference-data.js';
import type { ServiceSettings } from '../settings.js';

/** Where a visit's jobs are scheduled: the gateway, and what its schedules invoke (on AWS, the campaign-job function). */
export interface CampaignScheduler {
  gateway: ScheduleGateway;
  targetArn: string;
  /** The role EventBridge Scheduler assumes to invoke the target. */
  roleArn: string;
  group: string;
}

/** The campaign feature's adapters, wired once by each composition root. */
export interface CampaignServices {
  store: CampaignStore;
  messages: CampaignMessageLedger;
  recipients: RecipientSource;
  scheduler: CampaignScheduler;
  /** The jobs the local scheduler keeps (`runDueCampaignJobs` runs those due); absent on AWS, where Scheduler holds them. */
  jobs?: JobStore;
}

export interface CampaignDeps {
  campaigns: CampaignServices;
  sms: SmsSender;
  reference: ReferenceData;
  settings: ServiceSettings;
  logger: Logger;
  clock: Clock;
  audit?: AuditLog;
  /** Real elapsed time for claim leases; by default the host's. */
  wallClock?: () => number;
  /** Random bytes for ids and booking codes; tests fix them. */
  randomBytes?: (size: number) => Uint8Array;
  /**
   * Our opt-out list, asked after each campaign message's claim, and the opt-out confirmations of the
   * inbound use case; every composition root wires it (without it nothing is skipped, and an opt-out fails).
   */
  suppressions?: SuppressionList & OptOutConfirmations;
  /** The keyed hash the deliveries listing finds a phone's messages by; without it, messages are listed without one. */
  phoneHasher?: PhoneHasher;
  /** The per-phone daily cap shared with the reminders (`CERTALARM_SMS_DAILY_CAP_PER_PHONE`); without it, nothing is held back. */
  cap?: DailySendCap;
}
