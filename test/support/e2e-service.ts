/**
 * End-to-end helpers: the whole local service started in-process on a temporary data directory,
 * plain `fetch` against its HTTP API, and certificate records shaped exactly like an upload.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { residentIdCheckCharacter, usccCheckCharacter, USCC_CHARSET } from '../../functions/core/holder-id.js';
import { startLocalService, type LocalService } from '../../functions/adapters/local/local-service.js';
import { silentLogger, type Logger } from '../../functions/app/logger.js';
import { settingsFromEnvironment } from '../../functions/app/settings.js';

/**
 * The service clock of every e2e service: a Monday morning inside the send window, early enough
 * that a certificate expiring on 2026-12-20 still has all three reminders ahead of it.
 */
export const SERVICE_START = '2026-06-01T10:00:00+08:00';

/** The bearer token every e2e request carries: the service is given it as its first operator token. */
export const E2E_TOKEN = 'e2e-operator-token';

export interface TestService {
  service: LocalService;
  url: string;
  dataDir: string;
  stop(): Promise<void>;
}

export interface TestServiceOptions {
  /** Reuse a data directory (a restart); otherwise a fresh temporary one is made and removed on stop. */
  dataDir?: string;
  demo?: boolean;
  inMemory?: boolean;
  env?: Record<string, string>;
  /** Start the service clock here instead of SERVICE_START. */
  startAt?: string;
  /** How long after a send the outbox's sandbox receipt arrives (default: the service's 3000 ms). */
  sandboxReceiptMs?: number;
  /** Where the service logs (default: nowhere); a test that reads the logs gives its own. */
  logger?: Logger;
}

/** The local service as `npm start` builds it, on port 0 with the scheduled scan off and a fixed clock. */
export async function startTestService(options: TestServiceOptions = {}): Promise<TestService> {
  const ownsDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await makeTempDir('certalarm-e2e-'));
  const service = await startLocalService({
    dataDir,
    port: 0,
    settings: settingsFromEnvironment(options.env ?? {}),
    logger: options.logger ?? silentLogger,
    demo: options.demo ?? false,
    scanEveryMinutes: 0,
    startAt: DateTime.fromISO(options.startAt ?? SERVICE_START, { setZone: true }),
    adminToken: E2E_TOKEN,
    ...(options.inMemory === true ? { inMemory: true } : {}),
    ...(options.sandboxReceiptMs !== undefined ? { sandboxReceiptMs: options.sandboxReceiptMs } : {}),
  });
  return {
    service,
    url: service.url,
    dataDir,
    async stop() {
      await service.stop();
      if (ownsDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export function makeTempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

// ---------------------------------------------------------------------------------------------
// HTTP

export interface ApiResponse<T> {
  status: number;
  contentType: string | null;
  body: T;
}

export interface ApiError {
  error: { code: string; message: string; details: unknown };
}

export interface Rejection {
  index: number;
  field: string;
  reason: string;
}

export interface UploadAnswer {
  accepted: number;
  created: number;
  updated: number;
  renewed: number;
  unchanged: number;
  rejected: Rejection[];
}

/** A certificate as the API answers it: the uploaded fields, normalised (phone in E.164, township as its code). */
export type CertificateView = CertificateRecord;

export interface CertificatePage {
  items: CertificateView[];
  nextCursor?: string;
}

export type StageName = 'first' | 'final' | 'expired';

export interface PlanAnswer {
  renewalDeadline: string;
  windowOpens: string | null;
  calendarProvisional: boolean;
  stages: Array<{ stage: StageName; sendAt: string; status: 'pending' | 'sent' | 'skipped' }>;
}

export interface ScanAnswer {
  sent: number;
}

export interface OutboxMessage {
  to: string;
  type: string;
  number: string;
  stage: StageName;
  expiresOn: string;
  renewalDeadline: string;
  body: string;
  segments: number;
  sentAt: string;
}

/** A thin JSON client over `fetch`: every answer is read as JSON, whatever its status. */
export class Api {
  /** `token` null sends no Authorization header at all. */
  constructor(
    readonly baseUrl: string,
    private readonly token: string | null = E2E_TOKEN,
  ) {}

  get<T>(path: string, headers: Record<string, string> = {}): Promise<ApiResponse<T>> {
    return this.send<T>('GET', path, undefined, headers);
  }

  post<T>(path: string, json?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse<T>> {
    return this.send<T>('POST', path, json === undefined ? undefined : JSON.stringify(json), { 'content-type': 'application/json', ...headers });
  }

  /** POST a body exactly as given, for malformed and oversized requests. */
  postRaw<T>(path: string, body: string): Promise<ApiResponse<T>> {
    return this.send<T>('POST', path, body, { 'content-type': 'application/json' });
  }

  async send<T>(method: string, path: string, body: string | undefined, headers: Record<string, string>): Promise<ApiResponse<T>> {
    const allHeaders = { ...(this.token !== null ? { authorization: `Bearer ${this.token}` } : {}), ...headers };
    const response = await fetch(new URL(path, this.baseUrl), { method, headers: allHeaders, ...(body !== undefined ? { body } : {}) });
    const text = await response.text();
    return { status: response.status, contentType: response.headers.get('content-type'), body: JSON.parse(text) as T };
  }

  upload(records: unknown): Promise<ApiResponse<UploadAnswer>> {
    return this.post<UploadAnswer>('/v1/certificates', records);
  }

  /** Upload fixtures that must all be accepted; a rejection fails the caller at once. */
  async uploadAll(records: unknown[]): Promise<UploadAnswer> {
    const answer = await this.upload(records);
    if (answer.status !== 200 || answer.body.rejected.length > 0) throw new Error(`fixture upload failed: HTTP ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.body;
  }

  certificate(type: string, number: string): Promise<ApiResponse<CertificateView>> {
    return this.get<CertificateView>(`/v1/certificates/${encodeURIComponent(type)}/${encodeURIComponent(number)}`);
  }

  async plan(type: string, number: string): Promise<PlanAnswer> {
    const answer = await this.get<PlanAnswer>(`/v1/certificates/${encodeURIComponent(type)}/${encodeURIComponent(number)}/plan`);
    if (answer.status !== 200) throw new Error(`plan of ${type}/${number}: HTTP ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.body;
  }

  async scan(now?: string): Promise<ScanAnswer> {
    const answer = await this.post<ScanAnswer>('/v1/scans', now === undefined ? undefined : { now });
    if (answer.status !== 200) throw new Error(`scan at ${now ?? 'service clock'}: HTTP ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.body;
  }

  async outbox(): Promise<OutboxMessage[]> {
    const answer = await this.get<OutboxMessage[]>('/v1/outbox');
    if (answer.status !== 200) throw new Error(`outbox: HTTP ${answer.status}`);
    return answer.body;
  }

  /** The outbox messages about these certificate numbers, oldest first. */
  async outboxFor(...numbers: string[]): Promise<OutboxMessage[]> {
    return (await this.outbox()).filter((message) => numbers.includes(message.number));
  }

  /** Every page of GET /v1/certificates for a query, following `nextCursor`. */
  async listAll(query: Record<string, string>): Promise<{ items: CertificateView[]; pages: number }> {
    const items: CertificateView[] = [];
    let cursor: string | undefined;
    for (let pages = 1; pages <= 1000; pages++) {
      const params = new URLSearchParams({ ...query, ...(cursor !== undefined ? { cursor } : {}) });
      const page = await this.get<CertificatePage>(`/v1/certificates?${params.toString()}`);
      if (page.status !== 200) throw new Error(`list ${params.toString()}: HTTP ${page.status} ${JSON.stringify(page.body)}`);
      items.push(...page.body.items);
      cursor = page.body.nextCursor;
      if (cursor === undefined) return { items, pages };
    }
    throw new Error('GET /v1/certificates kept returning a nextCursor after 1000 pages');
  }
}

// ---------------------------------------------------------------------------------------------
// Records

export interface CertificateRecord {
  type: string;
  number: string;
  holder: { name: string; id?: string };
  phone: string;
  township: string;
  issuedOn: string;
  expiresOn: string;
}

/** A certificate number no other test uses, readable in a failure message. */
export function uniqueNumber(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8).toUpperCase()}`;
}

/** A unified social credit code of a Xingguo enterprise with a correct check character. */
export function enterpriseId(serial: number): string {
  let org = '';
  let n = serial;
  for (let k = 0; k < 9; k++) {
    org = USCC_CHARSET.charAt(n % 31) + org;
    n = Math.floor(n / 31);
  }
  const first17 = `91360732${org}`;
  return first17 + usccCheckCharacter(first17)!;
}

/** A resident identity number registered in Xingguo with a correct check character. */
export function residentId(birthDate: string, sequence: string): string {
  const first17 = `360732${birthDate.replace(/-/g, '')}${sequence}`;
  return first17 + residentIdCheckCharacter(first17)!;
}

/** The same identifier with a check character that cannot be right. */
export function withBrokenCheck(id: string): string {
  const last = id.charAt(17);
  return id.slice(0, 17) + (last === '1' ? '2' : '1');
}

let phonesGiven = 0;

/**
 * A mobile number no other record of this test process holds: one holder's reminders due together are
 * merged into one SMS and capped per day, so records that share a phone would not each get their own.
 */
export function uniquePhone(): string {
  phonesGiven += 1;
  return `138${String(phonesGiven).padStart(8, '0')}`;
}

/** The pesticide licence of the contract's example, under a number and a phone of its own. */
export function certificateRecord(overrides: Partial<CertificateRecord> = {}): CertificateRecord {
  return {
    type: 'pesticide_business_license',
    number: uniqueNumber('HX-PEST'),
    holder: { name: '兴国县某农资有限公司', id: enterpriseId(4242) },
    phone: uniquePhone(),
    township: '360732100',
    issuedOn: '2021-01-01',
    expiresOn: '2026-12-20',
    ...overrides,
  };
}

// ---------------------------------------------------------------------------------------------
// Expectations

/** The same instant in a canonical form, so `…T09:00:00.000+08:00` and `…T01:00:00Z` compare equal. */
export function instant(iso: string): string {
  const parsed = DateTime.fromISO(iso, { setZone: true });
  if (!parsed.isValid) throw new Error(`not an ISO instant: ${iso}`);
  return parsed.toUTC().toISO()!;
}

/** A plan's stages with their send times made comparable. */
export function stagesOf(plan: PlanAnswer): Array<{ stage: StageName; sendAt: string; status: string }> {
  return plan.stages.map(({ stage, sendAt, status }) => ({ stage, sendAt: instant(sendAt), status }));
}

/** The carriers' billing rule: up to 70 characters is one message, longer ones go in parts of 67. */
export function expectedSegments(body: string): number {
  const length = Array.from(body).length;
  return length <= 70 ? 1 : Math.ceil(length / 67);
}
