import { describe, expect, it } from 'vitest';
import { InProcessScheduleGateway } from '../../functions/adapters/local/in-process-schedule-gateway.js';
import type { CampaignDeps } from '../../functions/app/campaigns/campaign-deps.js';
import { addVisit, createCampaign } from '../../functions/app/campaigns/manage-campaigns.js';
import { runDueCampaignJobs } from '../../functions/app/campaigns/run-campaign-job.js';
import { silentLogger } from '../../functions/app/logger.js';
import { RateLimitedSmsSender } from '../../functions/app/rate-limited-sender.js';
import { loadReferenceData } from '../../functions/app/reference-data.js';
import { settingsFromEnvironment } from '../../functions/app/settings.js';
import { uploadCertificates } from '../../functions/app/upload-certificates.js';
import type { Principal } from '../../functions/core/access.js';
import type { SmsMessage, SmsReceipt, SmsSender } from '../../functions/core/ports.js';
import { farmRecord, freshCampaignTable, INSPECTION, OPERATOR_LICENSE } from '../support/campaign-fixtures.js';
import { at, testSettings } from '../support/fixtures.js';

const OPERATOR: Principal = { role: 'operator', subject: 'token:ops' };
const CREATED = at('2026-12-01T10:00:00+08:00');
const NOTICE_AT = at('2026-12-29T09:00:00+08:00');
const PHONES = 5_000;
const reference = loadReferenceData();

/** The provider: notes the simulated instant of every send it receives. */
class TimedSender implements SmsSender {
  readonly sent: Array<{ to: string; atMs: number }> = [];
  constructor(private readonly clock: { ms: number }) {}
  async send(message: SmsMessage): Promise<SmsReceipt> {
    this.sent.push({ to: message.to, atMs: this.clock.ms });
    return { messageId: `sim-${this.sent.length}` };
  }
}

/**
 * The job itself is bound by the store, not the clock: each phone costs about six DynamoDB requests
 * (invitation, booking code, claim, record…), so against DynamoDB Local on a shared 2-core machine this
 * test takes minutes of real time (measured: 104 and 118 s alone at a load average of 11, 226 s inside the
 * whole suite at a load average of about 25), not the minute asked for. The sender's
 * sleeps are simulated, so none of that time is the 500 simulated seconds the rate imposes.
 */
const FIVE_THOUSAND_PHONES_TIMEOUT_MS = 360_000;

describe('Use case: runDueCampaignJobs — a township of 5,000 phones', () => {
  it('sends every phone exactly one notice, paced at the configured SMS rate on a simulated clock', async () => {
    // Prepare: 5,000 holders in Lianjiang, each with its own phone; the default CERTALARM_SMS_RATE, a simulated clock
    const settings = testSettings({ smsRate: settingsFromEnvironment({}).smsRate });
    const { store, campaigns } = await freshCampaignTable('campaign-5000');
    const records = Array.from({ length: PHONES }, (_, i) => farmRecord(10_000 + i, { phone: `1390${String(i).padStart(7, '0')}` }));
    const upload = await uploadCertificates({ store, reference, settings }, records, CREATED);
    expect(upload.rejected).toEqual([]);
    const simulated = { ms: 0 };
    const provider = new TimedSender(simulated);
    const paced = new RateLimitedSmsSender(provider, settings.smsRate, () => simulated.ms, async (ms) => {
      simulated.ms += ms;
    });
    let now = CREATED;
    const clock = { now: () => now };
    const deps: CampaignDeps = {
      campaigns: {
        store: campaigns,
        messages: campaigns,
        recipients: campaigns,
        jobs: campaigns,
        scheduler: { gateway: new InProcessScheduleGateway({ clock, jobs: campaigns, run: () => false, onError: () => undefined }), targetArn: 'local:job', roleArn: 'local:role', group: 'certalarm' },
      },
      sms: paced,
      reference,
      settings,
      logger: silentLogger,
      clock,
      wallClock: () => 1_000_000,
    };
    const campaign = await createCampaign(deps, OPERATOR, { name: '2027年春季农机上门服务', types: [INSPECTION, OPERATOR_LICENSE], season: { from: '2027-01-04', to: '2027-06-30' }, blackouts: [] });
    await addVisit(deps, OPERATOR, campaign.id, { township: '潋江镇', date: '2027-01-12', place: '潋江镇农机服务站', slots: [{ start: '09:00', end: '17:00', capacity: PHONES }] });
    now = NOTICE_AT;

    // Act
    const result = await runDueCampaignJobs(deps, NOTICE_AT);

    // Assess: one notice per phone
    expect(result).toMatchObject({ jobs: 1, done: 1, sent: PHONES, failed: 0 });
    expect(provider.sent).toHaveLength(PHONES);
    expect(new Set(provider.sent.map((s) => s.to)).size).toBe(PHONES);
    // …no simulated second holds more than the rate, and the whole township takes 5,000 / rate seconds
    const perSecond = new Map<number, number>();
    for (const { atMs } of provider.sent) perSecond.set(Math.floor(atMs / 1000), (perSecond.get(Math.floor(atMs / 1000)) ?? 0) + 1);
    expect(Math.max(...perSecond.values())).toBe(settings.smsRate);
    const spanMs = Math.max(...provider.sent.map((s) => s.atMs)) - Math.min(...provider.sent.map((s) => s.atMs));
    expect(spanMs).toBeCloseTo(((PHONES - 1) / settings.smsRate) * 1000, 0);
  }, FIVE_THOUSAND_PHONES_TIMEOUT_MS);
});
