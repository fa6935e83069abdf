#!/usr/bin/env -S npx tsx
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Argument, Command, InvalidArgumentError, Option } from 'commander';
import { DateTime } from 'luxon';
import { ZONE } from '../functions/core/model.js';
import { ApiClient, ApiError } from '../functions/adapters/local/cli/api-client.js';
import { formatOutboxLine } from '../functions/adapters/local/outbox-format.js';
import { instantInShanghai } from '../functions/core/time.js';
import { SettingsError } from '../functions/app/settings.js';
import { PortInUseError } from '../functions/adapters/local/http-server.js';
import type * as z from 'zod';
import type { auditEntryContract } from '../functions/contracts/api/audit.js';
import { auditPageContract } from '../functions/contracts/api/audit.js';
import type { deliveryContract } from '../functions/contracts/api/deliveries.js';
import { attentionPageContract, deliveryPageContract } from '../functions/contracts/api/deliveries.js';
import type { suppressionContract } from '../functions/contracts/api/suppressions.js';
import { reinstatedContract, suppressionPageContract } from '../functions/contracts/api/suppressions.js';
import { planContract, revocationContract } from '../functions/contracts/api/certificates.js';
import { inboundOutcomeContract } from '../functions/contracts/api/inbound.js';
import { purgeResultContract, scanAnswerContract, type scanPreviewContract } from '../functions/contracts/api/scans.js';
import { calendarListContract, calendarLoadContract, calendarYearContract } from '../functions/contracts/api/calendar.js';
import { ruleChangeContract, ruleContract, ruleHistoryContract, ruleListContract, rulePreviewContract } from '../functions/contracts/api/rules.js';
import { issuedTokenContract, revokedTokenContract, tokenListContract } from '../functions/contracts/api/tokens.js';
import {
  bookingContract,
  campaignContract,
  campaignCreatedContract,
  campaignDetailContract,
  campaignEditContract,
  campaignEditPreviewContract,
  campaignListContract,
  campaignReportContract,
  visitAddedContract,
  visitContract,
} from '../functions/contracts/api/campaigns.js';

// Heavy modules (the AWS SDK, DynamoDB Local, spreadsheet readers) load only in the commands that need them,
// so `--help` and the HTTP-client commands start quickly.

// The pinned AWS SDK release supports Node 20; its notice about future releases only confuses CLI users.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// `certalarm catalogue | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const DEFAULT_PORT = Number(process.env.PORT ?? 3000);
const DEFAULT_URL = process.env.CERTALARM_URL ?? `http://127.0.0.1:${DEFAULT_PORT}`;

function isoInstant(value: string): string {
  const parsed = instantInShanghai(value);
  if (!parsed.isValid) throw new InvalidArgumentError(`"${value}" is not an ISO-8601 instant, e.g. 2026-12-01T10:00:00+08:00`);
  return value;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`"${value}" is not a whole number`);
  return n;
}

const DEFAULT_DATA_DIR = process.env.CERTALARM_DATA_DIR ?? '.certalarm';

const urlOption = () => new Option('--url <url>', 'address of a running certalarm service').default(DEFAULT_URL);
const tokenOption = () => new Option('--token <token>', 'bearer token (env CERTALARM_TOKEN; default: the local admin token in <data dir>/admin-token)');

/** --token, else CERTALARM_TOKEN, else the local service's first operator token, so local use needs no setup. */
function resolveToken(explicit: string | undefined): string | undefined {
  if (explicit !== undefined) return explicit;
  if (process.env.CERTALARM_TOKEN !== undefined && process.env.CERTALARM_TOKEN !== '') return process.env.CERTALARM_TOKEN;
  if (process.env.CERTALARM_ADMIN_TOKEN !== undefined && process.env.CERTALARM_ADMIN_TOKEN !== '') return process.env.CERTALARM_ADMIN_TOKEN;
  const file = join(DEFAULT_DATA_DIR, 'admin-token');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
}

function api(opts: { url: string; token?: string }): ApiClient {
  return new ApiClient(opts.url, resolveToken(opts.token));
}
const jsonOption = () => new Option('--json', 'print machine-readable JSON instead of text');

function print(json: boolean, value: unknown, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
}

/** A human-readable line per log record, for a person watching `npm start`; `--log-json` keeps raw JSON. */
function prettyLogStream(): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        try {
          const { level, time, msg, service: _s, pid: _p, hostname: _h, ...rest } = JSON.parse(line) as Record<string, unknown>;
          const at = DateTime.fromMillis(Number(time), { zone: ZONE }).toFormat('HH:mm:ss');
          const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
          process.stderr.write(`${at} ${String(level).padEnd(5)} ${String(msg ?? '')}${extra}\n`);
        } catch {
          process.stderr.write(`${line}\n`);
        }
      }
      done();
    },
  });
}

/** Single-quoted for bash, so a data dir with spaces or `$` still works when the line is pasted. */
function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A first request that works as printed: every route but /healthz needs the operator token. */
function tryCommand(url: string, tokenFile: string | undefined): string {
  const token = tokenFile !== undefined ? `$(cat ${shellQuote(tokenFile)})` : '$CERTALARM_ADMIN_TOKEN';
  return `curl -s ${url}/v1/catalogue -H "authorization: Bearer ${token}" | head -c 300`;
}

const program = new Command()
  .name('certalarm')
  .description('证照到期"闹钟"服务 — certificate-expiry reminders for 兴国县行政审批局')
  .showHelpAfterError('(add --help for usage)');

program
  .command('serve')
  .description('run the service locally: DynamoDB Local, the HTTP API, the scheduled scan and the SMS outbox')
  .option('--port <port>', 'HTTP port on 127.0.0.1 (env PORT)', positiveInt, DEFAULT_PORT)
  .option('--data-dir <dir>', 'where data, the outbox and DynamoDB files live (env CERTALARM_DATA_DIR)', DEFAULT_DATA_DIR)
  .option('--no-demo', 'start empty: do not load the demo certificates on first start')
  .option('--now <iso>', 'start the service clock at this instant (env CERTALARM_NOW)', isoInstant, process.env.CERTALARM_NOW)
  .option('--scan-every <minutes>', 'minutes between scheduled due scans; 0 turns them off (env CERTALARM_SCAN_EVERY_MINUTES)', positiveInt, Number(process.env.CERTALARM_SCAN_EVERY_MINUTES ?? 15))
  .option('--log-json', 'write logs as JSON lines instead of readable text')
  .addOption(new Option('--json', 'print the startup summary as one JSON line, and logs as JSON'))
  .action(async (opts: { port: number; dataDir: string; demo: boolean; now?: string; scanEvery: number; logJson?: boolean; json?: boolean }) => {
    const { createLogger } = await import('../functions/app/logger.js');
    const { dynamoDbHeapFromEnvironment, sandboxReceiptDelayFromEnvironment, settingsFromEnvironment } = await import('../functions/app/settings.js');
    const { startLocalService } = await import('../functions/adapters/local/local-service.js');
    const logger = createLogger(opts.logJson === true || opts.json === true ? {} : { destination: prettyLogStream() });
    const settings = settingsFromEnvironment(process.env);
    const dynamoDbHeapMb = dynamoDbHeapFromEnvironment(process.env);
    const sandboxReceiptMs = sandboxReceiptDelayFromEnvironment(process.env);
    const service = await startLocalService({
      sandboxReceiptMs,
      dataDir: opts.dataDir,
      port: opts.port,
      settings,
      logger,
      demo: opts.demo,
      scanEveryMinutes: opts.scanEvery,
      ...(dynamoDbHeapMb !== undefined ? { dynamoDbHeapMb } : {}),
      ...(opts.now !== undefined ? { startAt: instantInShanghai(opts.now) } : {}),
      printMessage: (entry) => process.stdout.write(`${formatOutboxLine(entry)}\n`),
      ...(process.env.CERTALARM_ADMIN_TOKEN !== undefined ? { adminToken: process.env.CERTALARM_ADMIN_TOKEN } : {}),
      onFatal: (error) => {
        process.stderr.write(`certalarm stopped: ${error.message}\n`);
        process.exit(1);
      },
    });
    if (opts.json === true) {
      process.stdout.write(
        `${JSON.stringify({
          url: service.url,
          now: service.clock.now().toISO(),
          dynamodbEndpoint: service.dynamoEndpoint,
          dataDir: opts.dataDir,
          demoLoaded: service.demoLoaded,
          adminTokenFile: service.adminToken.file ?? null,
          ...(service.adminToken.generatedNow ? { adminToken: service.adminToken.token } : {}),
          sendWindow: settings.sendWindow,
          scanEveryMinutes: opts.scanEvery,
        })}\n`,
      );
    } else process.stdout.write(
      [
        `certalarm listening on ${service.url}`,
        `  service clock: ${service.clock.now().toISO()} (Asia/Shanghai)`,
        `  DynamoDB Local: ${service.dynamoEndpoint} (data in ${opts.dataDir})`,
        `  demo certificates loaded now: ${service.demoLoaded}`,
        ...(service.adminToken.generatedNow
          ? [
              `  first operator token (shown once; kept in ${service.adminToken.file ?? ''}):`,
              `    ${service.adminToken.token}`,
            ]
          : [`  operator token: ${service.adminToken.file !== undefined ? `in ${service.adminToken.file}` : 'CERTALARM_ADMIN_TOKEN'}`]),
        `  send window: ${settings.sendWindow.start}–${settings.sendWindow.end}; scan every ${opts.scanEvery} min`,
        `  try: ${tryCommand(service.url, service.adminToken.file)}`,
        `       npx certalarm scan --dry-run   ·   npx certalarm --help`,
        '',
      ].join('\n'),
    );
    const shutdown = async () => {
      await service.stop();
      process.exit(0);
    };
    process.once('SIGINT', () => void shutdown());
    process.once('SIGTERM', () => void shutdown());
  });

program
  .command('import')
  .description('upload certificates from a CSV, XLSX or JSON file to a running service, with a progress bar')
  .argument('<file>', 'a .csv (UTF-8 or GBK), .xlsx, or .json file (an array of records)')
  .option('--all-or-nothing', 'refuse the whole file if any row is bad')
  .addOption(new Option('--encoding <encoding>', 'CSV encoding instead of detecting it').choices(['utf-8', 'gbk', 'gb18030']))
  .option('--sheet <name>', 'XLSX: the sheet to read (default: the first)')
  .option('--errors <file>', 'also write the rejected rows to this CSV file (UTF-8 with BOM, opens in Excel)')
  .option('--batch-size <n>', 'JSON files: records per request', positiveInt, 500)
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .action(
    async (
      file: string,
      opts: { url: string; token?: string; json?: boolean; batchSize: number; allOrNothing?: boolean; encoding?: string; sheet?: string; errors?: string },
    ) => {
      const client = api(opts);
      const { importFile } = await import('../functions/adapters/local/cli/import-file.js');
      const summary = await importFile({
        file,
        api: client,
        batchSize: Math.max(1, opts.batchSize),
        progress: opts.json !== true && process.stderr.isTTY === true,
        allOrNothing: opts.allOrNothing === true,
        ...(opts.encoding !== undefined ? { encoding: opts.encoding } : {}),
        ...(opts.sheet !== undefined ? { sheet: opts.sheet } : {}),
      });
      if (opts.errors !== undefined && summary.errorsCsv !== undefined) {
        // fetch's text() drops the service's byte-order mark, and without it Excel reads the UTF-8 as GBK.
        writeFileSync(opts.errors, `\uFEFF${(await client.text(summary.errorsCsv)).replace(/^\uFEFF/, '')}`, 'utf8');
      }
      print(opts.json === true, summary, () => {
        const c = summary.counts;
        const lines = [
          `${file}: ${summary.state === 'done' ? '导入完成 done' : '导入失败 failed'}${summary.importId !== undefined ? ` (${summary.importId}${summary.resumed === true ? ', resumed' : ''})` : ''}`,
          `  ${c.rows} rows — ${c.accepted} accepted (${c.created} new, ${c.renewed} renewed, ${c.updated} updated, ${c.unchanged} unchanged), ${c.rejected} rejected`,
        ];
        if (summary.sameFileAs) lines.push(`  this file was imported before (${summary.sameFileAs})${c.unchanged === c.accepted ? ': nothing changed' : ''}`);
        if (summary.failure) lines.push(`  ${summary.failure.message}`);
        for (const r of summary.rejected.slice(0, 30)) {
          lines.push(`  ${r.row !== undefined ? `row ${r.row}` : `record ${r.index ?? '?'}`}, ${r.column}${r.value ? ` "${r.value}"` : ''}: ${r.reason}`);
        }
        if (summary.rejected.length > 30) lines.push(`  … and ${summary.rejected.length - 30} more${summary.errorsCsv ? ` (GET ${summary.errorsCsv}, or --errors FILE)` : ' (use --json)'}`);
        return lines.join('\n');
      });
      if (summary.state !== 'done' || summary.counts.rejected > 0) process.exitCode = 2;
    },
  );

program
  .command('token')
  .description('manage API tokens (operators): create, list, revoke')
  .addArgument(new Argument('<action>', 'what to do').choices(['create', 'list', 'revoke']))
  .argument('[id]', 'token id, for revoke')
  .addOption(new Option('--role <role>', 'for create').choices(['operator', 'bureau', 'viewer']))
  .option('--authority <code>', 'for a bureau token: its issuing authority (see GET /v1/authorities)')
  .option('--label <text>', 'a note on who holds the token')
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .action(async (action: string, id: string | undefined, opts: { url: string; token?: string; json?: boolean; role?: string; authority?: string; label?: string }) => {
    const client = api(opts);
    if (action === 'create') {
      if (opts.role === undefined) throw new InvalidArgumentError('token create needs --role');
      const issued = await client.post(
        '/v1/tokens',
        {
          role: opts.role,
          ...(opts.authority !== undefined ? { authority: opts.authority } : {}),
          ...(opts.label !== undefined ? { label: opts.label } : {}),
        },
        issuedTokenContract,
      );
      print(opts.json === true, issued, () => `token ${issued.id} (shown once, store it safely):\n${issued.token}`);
    } else if (action === 'list') {
      const tokens = await client.get('/v1/tokens', tokenListContract);
      print(opts.json === true, tokens, () => tokens.map((t) => `${t.id.padEnd(12)} ${t.role.padEnd(9)} ${(t.authority ?? '').padEnd(22)} ${t.revoked ? 'revoked' : 'active '} ${t.label ?? ''}`).join('\n'));
    } else {
      if (id === undefined) throw new InvalidArgumentError('token revoke needs the token id');
      const result = await client.delete(`/v1/tokens/${encodeURIComponent(id)}`, undefined, revokedTokenContract);
      print(opts.json === true, result, () => `token ${result.id} revoked`);
    }
  });

program
  .command('plan')
  .description("show a certificate's renewal deadline and reminder stages")
  .argument('<type>', 'certificate type code or Chinese name')
  .argument('<number>', 'certificate number')
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .action(async (type: string, number: string, opts: { url: string; token?: string; json?: boolean }) => {
    const plan = await api(opts).get(`/v1/certificates/${encodeURIComponent(type)}/${encodeURIComponent(number)}/plan`, planContract);
    print(opts.json === true, plan, () =>
      // A type without an expiry has no deadline to print: say why nothing is planned instead.
      !plan.reminders || plan.renewalDeadline === null
        ? `no reminders: ${plan.note ?? 'this certificate has no expiry'}`
        : [
            `renewal deadline: ${plan.renewalDeadline}${plan.windowOpens ? ` (window opens ${plan.windowOpens})` : ''}${plan.calendarProvisional ? ' — provisional: a year this plan reaches has no holiday calendar loaded, Mon–Fri assumed for it (certalarm calendar list)' : ''}`,
            ...plan.stages.map((s) => `  ${s.stage.padEnd(8)} ${s.sendAt}  ${s.status}${s.note ? ` (${s.note})` : ''}`),
          ].join('\n'),
    );
  });

const certificate = program.command('certificate').description('one certificate: revoke it before its expiry (its bureau or an operator)');

certificate
  .command('revoke')
  .description('end a certificate before its expiry (注销, 吊销, 撤销 or 停业): its pending reminders stop at once; the record is kept, marked')
  .argument('<type>', 'certificate type code or Chinese name')
  .argument('<number>', 'certificate number')
  .addOption(new Option('--reason <reason>', 'why it ended (required)').choices(['注销', '吊销', '撤销', '停业']))
  .option('--comment <text>', 'what happened, e.g. the decision document (required); kept with the mark and in the audit log')
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .action(async (type: string, number: string, opts: { url: string; token?: string; json?: boolean; reason?: string; comment?: string }) => {
    if (opts.reason === undefined) throw new InvalidArgumentError('certificate revoke needs --reason 注销|吊销|撤销|停业');
    if (opts.comment === undefined || opts.comment.trim() === '') throw new InvalidArgumentError('certificate revoke needs --comment "<what happened>"');
    const path = `/v1/certificates/${encodeURIComponent(type)}/${encodeURIComponent(number)}`;
    const result = await api(opts).delete(path, { reason: opts.reason, comment: opts.comment }, revocationContract);
    print(opts.json === true, result, () =>
      [
        result.alreadyRevoked === true
          ? `${result.type} ${result.number} was already revoked (${result.revoked.reason}, ${result.revoked.at} by ${result.revoked.by}): nothing changed`
          : `${result.type} ${result.number} revoked (${result.revoked.reason}): its pending reminders are stopped`,
        ...(result.inFlight !== undefined ? [`  a scan was already sending stage ${result.inFlight.join(', ')}: that one message may still arrive`] : []),
      ].join('\n'),
    );
  });

program
  .command('scan')
  .description('run a due-reminder scan now on a running service, or show what it would send (--dry-run)')
  .option('--now <iso>', 'scan as of this instant instead of the service clock', isoInstant)
  .option('--at-next-window', 'scan as of the next instant inside the send window (now, during the day; at night, the next morning)')
  .option('--dry-run', 'only show the messages the scan would send: nothing is sent or recorded')
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .action(async (opts: { url: string; token?: string; json?: boolean; now?: string; atNextWindow?: boolean; dryRun?: boolean }) => {
    const request = {
      ...(opts.now !== undefined ? { now: opts.now } : {}),
      ...(opts.atNextWindow === true ? { atNextWindow: true } : {}),
      ...(opts.dryRun === true ? { dryRun: true } : {}),
    };
    const result = await api(opts).post('/v1/scans', request, scanAnswerContract);
    print(opts.json === true, result, () => {
      if ('queued' in result) return `scan queued as of ${String(result.now)}`;
      if (!result.insideSendWindow) return `${result.now} is outside the send window: nothing ${opts.dryRun === true ? 'would be ' : ''}sent`;
      if ('messages' in result) return dryRunText(result);
      return `sent ${result.sent} · already sent ${result.alreadySent} · retry later ${result.retryLater} · failed ${result.failed} · suppressed (opted out) ${result.suppressed} · deferred (daily cap) ${result.deferred}`;
    });
  });

type DryRunAnswer = z.infer<typeof scanPreviewContract>;

function dryRunText(answer: DryRunAnswer): string {
  const sending = answer.messages.filter((m) => m.suppressed !== true && m.deferred !== true);
  // A merged SMS is listed on each reminder it carries, but goes out once.
  const merges = new Set(sending.filter((m) => m.mergedWith !== undefined).map((m) => [`${m.type}#${m.number}`, ...(m.mergedWith ?? [])].sort().join(',')));
  const count = sending.filter((m) => m.mergedWith === undefined).length + merges.size;
  const lines = [`dry run as of ${answer.now}: ${count} message(s) would be sent; nothing was sent or recorded`];
  for (const m of answer.messages) {
    const skipped = m.suppressed === true ? ' — 已退订，不发送 / opted out: recorded suppressed, not sent' : '';
    const merged = m.mergedWith !== undefined ? ` — 与 ${m.mergedWith.join('、')} 合并为一条 / merged into one SMS with them` : '';
    const deferred = m.deferred === true ? ' — 今日条数已达上限，次日发送 / deferred (daily cap): recorded deferred, sent the next day' : '';
    lines.push(`${m.stage.padEnd(7)} ${m.type} ${m.number} → ${m.to} (${m.segments} 条计费)${skipped}${merged}${deferred}`, `  ${m.body}`);
  }
  return lines.join('\n');
}

program
  .command('outbox')
  .description('list the SMS the local service has "sent"')
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .option('--last <n>', 'only the last n messages (default: the latest 1000; up to 100000, read back from the outbox file)', positiveInt)
  .action(async (opts: { url: string; token?: string; json?: boolean; last?: number }) => {
    const entries = await api(opts).get<Array<{ to: string; body: string; sentAt: string; segments: number; type: string; number: string; stage: string; expiresOn: string; renewalDeadline: string; messageId: string }>>(
      opts.last === undefined ? '/v1/outbox' : `/v1/outbox?last=${String(opts.last)}`,
    );
    print(opts.json === true, entries, () => (entries.length === 0 ? 'the outbox is empty' : entries.map((e) => formatOutboxLine({ ...e, idempotencyKey: '' })).join('\n')));
  });

const calendar = program.command('calendar').description('the holiday calendar: list the years, show one, load a State Council notice (operators)');

calendar
  .command('list')
  .description('the years with an arrangement, where each came from, and warnings about missing years')
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .action(async (opts: { url: string; token?: string; json?: boolean }) => {
    const answer = await api(opts).get('/v1/calendar', calendarListContract);
    print(opts.json === true, answer, () =>
      [
        ...answer.years.map(
          (y) =>
            `${y.year}  v${y.version}  ${String(y.holidays).padStart(3)} days off  ${String(y.workdays).padStart(2)} make-up workdays  ${y.origin.padEnd(8)} ${y.loadedBy}  ${y.loadedAt}  ${y.source}` +
            (y.replan !== undefined && y.replan.state !== 'done' ? `  (re-plan ${y.replan.state}: ${y.replan.examined} read)` : ''),
        ),
        `covered through: ${answer.coveredThrough ?? '—'}`,
        ...answer.warnings.map((w) => `WARNING ${w.message}`),
      ].join('\n'),
    );
  });

calendar
  .command('get')
  .description("one year's days off and make-up workdays, and its earlier versions")
  .argument('<year>', 'e.g. 2027', positiveInt)
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .action(async (year: number, opts: { url: string; token?: string; json?: boolean }) => {
    const answer = await api(opts).get(`/v1/calendar/${year}`, calendarYearContract);
    print(opts.json === true, answer, () =>
      [
        `${answer.year} (version ${answer.version}, loaded by ${answer.loadedBy} at ${answer.loadedAt})`,
        `  source:   ${answer.source}`,
        `  days off: ${answer.holidays.join(' ')}`,
        `  make-up workdays (调休上班): ${answer.workdays.join(' ') || '—'}`,
        ...(answer.history.length > 1 ? [`  versions: ${answer.history.map((h) => `v${h.version} ${h.loadedAt} ${h.loadedBy}`).join('; ')}`] : []),
      ].join('\n'),
    );
  });

calendar
  .command('load')
  .description("load a year's State Council holiday notice (operators); re-plans the reminders it affects")
  .argument('<year>', 'the year the notice is for, e.g. 2027', positiveInt)
  .argument('<file>', 'a JSON file: {"holidays": [...], "workdays": [...]} (see the README, "Holiday calendar")')
  .option('--source <text>', "the notice's title or document number, e.g. 国办发明电〔2026〕N号 (required unless the file has \"source\")")
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .action(async (year: number, file: string, opts: { url: string; token?: string; json?: boolean; source?: string }) => {
    const parsed = readJsonFile(file);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new InvalidArgumentError(`${file} must hold one object with "holidays" and "workdays"`);
    const { year: fileYear, source: fileSource, ...days } = parsed as Record<string, unknown>;
    if (fileYear !== undefined && fileYear !== year) throw new InvalidArgumentError(`${file} is for ${String(fileYear)}, not ${year}`);
    const source = opts.source ?? (typeof fileSource === 'string' ? fileSource : undefined);
    if (source === undefined) throw new InvalidArgumentError('calendar load needs --source "<the notice\'s title or document number>"');
    const result = await api(opts).put(`/v1/calendar/${year}`, { ...days, source }, calendarLoadContract);
    print(opts.json === true, result, () =>
      [
        `${result.year} loaded as version ${result.version}${result.replaced !== null ? ` (replaces version ${result.replaced.version})` : ''}: ${result.holidays} days off, ${result.workdays} make-up workdays`,
        `re-plan ${result.replan.state}: ${result.replan.examined} certificates read, ${result.replan.replanned} re-planned${result.replan.state === 'done' ? '' : ' — it continues in the next scheduled scans'}`,
      ].join('\n'),
    );
  });

const rules = program.command('rules').description("reminder rules per certificate type: list, show, change, preview, history, restore (changes: operators)");

/** A JSON file a person gave on the command line; a missing file keeps its own error, a broken one says so. */
function readJsonFile(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw error;
    throw new InvalidArgumentError(`${file} is not a JSON file: ${(error as Error).message}`);
  }
}

/** A rule file: `{"enabled": true, "stages": [...]}`, or just the list of stages. */
function readRuleFile(file: string): { enabled?: boolean; stages: unknown[] } {
  const parsed = readJsonFile(file);
  if (Array.isArray(parsed)) return { stages: parsed as unknown[] };
  if (parsed === null || typeof parsed !== 'object' || !Array.isArray((parsed as { stages?: unknown }).stages)) {
    throw new InvalidArgumentError(`${file} must hold {"enabled": true, "stages": [...]} or a list of stages (see the README, "Reminder rules")`);
  }
  const { enabled, stages } = parsed as { enabled?: unknown; stages: unknown[] };
  return { ...(typeof enabled === 'boolean' ? { enabled } : {}), stages };
}

/** A refused rule names each field; print them one a line. */
function ruleErrors(error: unknown): never {
  const errors = error instanceof ApiError ? (error.body as { errors?: Array<{ field: string; reason: string }> } | undefined)?.errors : undefined;
  if (errors !== undefined) throw new ApiError(`rule refused:\n${errors.map((e) => `  ${e.field}: ${e.reason}`).join('\n')}`, 400, error instanceof ApiError ? error.body : undefined);
  throw error;
}

rules
  .command('list')
  .description("every type's rule: version, on/off, stage count, last change")
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .action(async (opts: { url: string; token?: string; json?: boolean }) => {
    const { ruleListText } = await import('../functions/adapters/local/cli/rules-format.js');
    const answer = await api(opts).get('/v1/rules', ruleListContract);
    print(opts.json === true, answer, () => ruleListText(answer.rules));
  });

rules
  .command('get')
  .description("one type's rule: its stages and texts (version 0 is the default)")
  .argument('<type>', 'a type code, e.g. food_business_license')
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .action(async (type: string, opts: { url: string; token?: string; json?: boolean }) => {
    const { ruleText } = await import('../functions/adapters/local/cli/rules-format.js');
    const answer = await api(opts).get(`/v1/rules/${encodeURIComponent(type)}`, ruleContract);
    print(opts.json === true, answer, () => ruleText(answer));
  });

rules
  .command('set')
  .description("change a type's rule from a file (operators); re-plans the type's certificates")
  .argument('<type>', 'a type code')
  .argument('<file>', 'a JSON file: {"enabled": true, "stages": [...]} (see the README, "Reminder rules")')
  .option('--comment <text>', 'why: kept in the history and the audit log (required)')
  .option('--expected-version <n>', 'the version the change is based on (default: the current one, read just before)', positiveInt)
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .action(async (type: string, file: string, opts: { url: string; token?: string; json?: boolean; comment?: string; expectedVersion?: number }) => {
    if (opts.comment === undefined || opts.comment.trim() === '') throw new InvalidArgumentError('rules set needs --comment "<why>"');
    const body = readRuleFile(file);
    const client = api(opts);
    const current = await client.get(`/v1/rules/${encodeURIComponent(type)}`, ruleContract);
    const result = await client
      .put(
        `/v1/rules/${encodeURIComponent(type)}`,
        {
          comment: opts.comment,
          enabled: body.enabled ?? current.enabled,
          stages: body.stages,
          expectedVersion: opts.expectedVersion ?? current.version,
        },
        ruleChangeContract,
      )
      .catch(ruleErrors);
    print(opts.json === true, result, () =>
      [
        `${type} rule saved as version ${result.version} (${result.enabled ? 'enabled' : 'disabled'})`,
        ...result.diff.map((d) => `  ${d}`),
        `re-plan ${result.replan.state}: ${result.replan.done}/${result.replan.total} certificates${result.replan.state === 'done' ? '' : ' — it continues in the next scheduled scans'}`,
      ].join('\n'),
    );
  });

rules
  .command('preview')
  .description('what a rule file would send per day, side by side with today, with sample texts from stored certificates (operators); changes nothing')
  .argument('<type>', 'a type code')
  .argument('<file>', 'a JSON file: {"enabled": true, "stages": [...]}')
  .option('--days <n>', 'how many days ahead, 1–366', positiveInt, 90)
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .action(async (type: string, file: string, opts: { url: string; token?: string; json?: boolean; days: number }) => {
    const { previewText } = await import('../functions/adapters/local/cli/rules-format.js');
    const body = readRuleFile(file);
    const answer = await api(opts)
      .post(`/v1/rules/${encodeURIComponent(type)}/preview`, { enabled: body.enabled ?? true, stages: body.stages, days: opts.days }, rulePreviewContract)
      .catch(ruleErrors);
    print(opts.json === true, answer, () => previewText(answer));
  });

rules
  .command('history')
  .description("every version of a type's rule, newest first, with what each changed")
  .argument('<type>', 'a type code')
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .action(async (type: string, opts: { url: string; token?: string; json?: boolean }) => {
    const { historyText } = await import('../functions/adapters/local/cli/rules-format.js');
    const answer = await api(opts).get(`/v1/rules/${encodeURIComponent(type)}/history`, ruleHistoryContract);
    print(opts.json === true, answer, () => historyText(answer));
  });

rules
  .command('restore')
  .description('make a new version equal to an earlier one (operators); 0 is the default rule')
  .argument('<type>', 'a type code')
  .argument('<version>', 'the version to bring back', positiveInt)
  .option('--comment <text>', 'why: kept in the history and the audit log (required)')
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .action(async (type: string, version: number, opts: { url: string; token?: string; json?: boolean; comment?: string }) => {
    if (opts.comment === undefined || opts.comment.trim() === '') throw new InvalidArgumentError('rules restore needs --comment "<why>"');
    const result = await api(opts)
      .post(`/v1/rules/${encodeURIComponent(type)}/restore`, { version, comment: opts.comment }, ruleChangeContract)
      .catch(ruleErrors);
    print(opts.json === true, result, () => `${type} rule version ${version} restored as version ${result.version}; re-plan ${result.replan.state}: ${result.replan.done}/${result.replan.total}`);
  });

const campaign = program
  .command('campaign')
  .description('seasonal door-to-door campaigns (上门服务): create, list, show, edit, add or cancel visits, report (changes: operators, or the bureau that issues the types)');

/** A refused campaign or visit names each field; print them one a line with what to change. */
function campaignErrors(what: string) {
  return (error: unknown): never => {
    const errors = error instanceof ApiError ? (error.body as { errors?: Array<{ field: string; reason: string }> } | undefined)?.errors : undefined;
    if (errors !== undefined) {
      throw new ApiError(`${what} 被拒绝 / refused — 请修改文件后重试 / fix the file and run again:\n${errors.map((e) => `  ${e.field}: ${e.reason}`).join('\n')}`, 400, error instanceof ApiError ? error.body : undefined);
    }
    throw error;
  };
}

/** A JSON file holding one object (a campaign or a visit). */
function readObjectFile(file: string, example: string): Record<string, unknown> {
  const parsed = readJsonFile(file);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new InvalidArgumentError(`${file} must hold one JSON object, e.g. ${example}`);
  return parsed as Record<string, unknown>;
}

const pathId = (id: string) => encodeURIComponent(id);

campaign
  .command('create')
  .description('create a campaign from a JSON file: {name, types, season:{from,to}, blackouts:[{from,to,reason}], noticeDaysBefore?, reminderDaysBefore?}')
  .argument('<file>', 'a JSON file (see the README, "Running a season\'s campaign")')
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .action(async (file: string, opts: { url: string; token?: string; json?: boolean }) => {
    const body = readObjectFile(file, '{"name": "2027年春季农机上门服务", "types": ["farm_machine_annual_inspection"], "season": {"from": "2027-01-04", "to": "2027-02-28"}}');
    const result = await api(opts).post('/v1/campaigns', body, campaignCreatedContract).catch(campaignErrors('活动 campaign'));
    print(opts.json === true, result, () => `已创建活动 / campaign created: ${result.id}\n下一步 next: certalarm campaign visit add ${result.id} VISIT.json`);
  });

campaign
  .command('list')
  .description('every campaign, newest first')
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .action(async (opts: { url: string; token?: string; json?: boolean }) => {
    const { campaignListText } = await import('../functions/adapters/local/cli/campaign-format.js');
    const answer = await api(opts).get('/v1/campaigns', campaignListContract);
    print(opts.json === true, answer, () => campaignListText(answer.campaigns));
  });

campaign
  .command('show')
  .description("one campaign with its visits: dates, places, slots, bookings and when each visit's notice goes out")
  .argument('<id>', 'the campaign id, e.g. cmp_3f2a1b')
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .action(async (id: string, opts: { url: string; token?: string; json?: boolean }) => {
    const { campaignText } = await import('../functions/adapters/local/cli/campaign-format.js');
    const answer = await api(opts).get(`/v1/campaigns/${pathId(id)}`, campaignDetailContract);
    print(opts.json === true, answer, () => campaignText(answer));
  });

campaign
  .command('edit')
  .description("change a campaign's name, notice/reminder days or notice/reminder templates from a JSON file; re-times the notices and reminders not sent yet (with --preview: show what it would do, change nothing)")
  .argument('<id>', 'the campaign id')
  .argument('<file>', 'a JSON file: {"comment", "name"?, "noticeDaysBefore"?, "reminderDaysBefore"?, "template"? (the notice; null: the default), "reminderTemplate"? (null: the default), "expectedVersion"? (default: the current one, read just before)}')
  .option('--preview', 'show per visit the new notice time, a real recipient\'s notice text and its segments, and what would be refused; saves nothing')
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .action(async (id: string, file: string, opts: { url: string; token?: string; json?: boolean; preview?: boolean }) => {
    const { campaignEditPreviewText, campaignEditText } = await import('../functions/adapters/local/cli/campaign-format.js');
    const body = readObjectFile(file, '{"comment": "县局要求提前通知", "noticeDaysBefore": 20}');
    const client = api(opts);
    const expectedVersion = body.expectedVersion ?? (await client.get(`/v1/campaigns/${pathId(id)}`, campaignContract)).version;
    const request = { ...body, expectedVersion };
    if (opts.preview === true) {
      const preview = await client.post(`/v1/campaigns/${pathId(id)}/preview`, request, campaignEditPreviewContract).catch(campaignErrors('活动修改 campaign edit'));
      print(opts.json === true, preview, () => campaignEditPreviewText(preview));
      return;
    }
    const result = await client.patch(`/v1/campaigns/${pathId(id)}`, request, campaignEditContract).catch(campaignErrors('活动修改 campaign edit'));
    print(opts.json === true, result, () => campaignEditText(result));
  });

const visit = campaign.command('visit').description("a campaign's township visits: add one, cancel one");

visit
  .command('add')
  .description('add a visit from a JSON file: {township, date, place, slots:[{start:"09:00", end:"10:00", capacity}]}; schedules its notice and reminder')
  .argument('<id>', 'the campaign id')
  .argument('<file>', 'a JSON file; township by code, name or alias, e.g. "高兴镇"')
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .action(async (id: string, file: string, opts: { url: string; token?: string; json?: boolean }) => {
    const { visitAddedText } = await import('../functions/adapters/local/cli/campaign-format.js');
    const body = readObjectFile(file, '{"township": "高兴镇", "date": "2027-01-12", "place": "高兴镇农机站", "slots": [{"start": "09:00", "end": "10:00", "capacity": 20}]}');
    const result = await api(opts).post(`/v1/campaigns/${pathId(id)}/visits`, body, visitAddedContract).catch(campaignErrors('上门安排 visit'));
    print(opts.json === true, result, () => visitAddedText(result));
  });

visit
  .command('cancel')
  .description('cancel a visit: its notice and reminder are deleted, booked holders get a short SMS')
  .argument('<id>', 'the campaign id')
  .argument('<visit>', 'the visit id (see `certalarm campaign show ID`)')
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .action(async (id: string, visitId: string, opts: { url: string; token?: string; json?: boolean }) => {
    const { visitCancelledText } = await import('../functions/adapters/local/cli/campaign-format.js');
    const result = await api(opts).delete(`/v1/campaigns/${pathId(id)}/visits/${pathId(visitId)}`, undefined, visitContract);
    print(opts.json === true, result, () => visitCancelledText(result));
  });

campaign
  .command('report')
  .description('per visit: invited phones, notices sent and failed, booked per slot, attended, renewed since')
  .argument('<id>', 'the campaign id')
  .option('--csv', 'print the report as CSV for Excel (UTF-8 with a BOM); redirect it to a file')
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .action(async (id: string, opts: { url: string; token?: string; json?: boolean; csv?: boolean }) => {
    if (opts.csv === true && opts.json === true) throw new InvalidArgumentError('choose one of --csv and --json');
    if (opts.csv === true) {
      process.stdout.write(await api(opts).bytes(`/v1/campaigns/${pathId(id)}/report?format=csv`));
      return;
    }
    const { reportText } = await import('../functions/adapters/local/cli/campaign-format.js');
    const answer = await api(opts).get(`/v1/campaigns/${pathId(id)}/report`, campaignReportContract);
    print(opts.json === true, answer, () => reportText(answer));
  });

const booking = program.command('booking').description('book or cancel a slot for a holder at the service desk (the holder can also reply by SMS)');

booking
  .command('add')
  .description("book the slot for the holder of a booking code (the code is in the holder's notice SMS); booking again moves it")
  .argument('<id>', 'the campaign id')
  .argument('<code>', 'the 6-character booking code, e.g. K7M2QX')
  .argument('<slot>', 'the slot number, as numbered in the notice (1, 2, …)', positiveInt)
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .action(async (id: string, code: string, slot: number, opts: { url: string; token?: string; json?: boolean }) => {
    const { bookingText } = await import('../functions/adapters/local/cli/campaign-format.js');
    const result = await api(opts)
      .post(`/v1/campaigns/${pathId(id)}/bookings`, { code: code.trim().toUpperCase(), slot }, bookingContract)
      .catch((error: unknown) => {
        const details = error instanceof ApiError ? (error.body as { error?: { code?: string; details?: { slotsWithRoom?: Array<{ number: number; start: string; end: string; room: number }> } } } | undefined)?.error : undefined;
        if (details?.code === 'slot_full') {
          const rooms = details.details?.slotsWithRoom ?? [];
          throw new ApiError(
            `第${slot}场已满 / slot ${slot} is full. ${rooms.length > 0 ? `有空位的场次 / slots with room: ${rooms.map((r) => `${r.number}) ${r.start}-${r.end} 余${r.room}`).join('  ')}` : '各场都已满 / every slot is full'}`,
            409,
            error instanceof ApiError ? error.body : undefined,
          );
        }
        throw error;
      });
    print(opts.json === true, result, () => bookingText(result));
  });

booking
  .command('cancel')
  .description('cancel a booking and free its slot')
  .argument('<id>', 'the campaign id')
  .argument('<booking>', 'the booking id (as `booking add` printed it)')
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .action(async (id: string, bookingId: string, opts: { url: string; token?: string; json?: boolean }) => {
    const { bookingText } = await import('../functions/adapters/local/cli/campaign-format.js');
    const result = await api(opts).delete(`/v1/campaigns/${pathId(id)}/bookings/${pathId(bookingId)}`, undefined, bookingContract);
    print(opts.json === true, result, () => bookingText(result, true));
  });

program
  .command('inbound')
  .description('simulate a holder\'s SMS reply locally, as SNS two-way SMS delivers it on AWS: "K7M2QX 2" books slot 2, "取消 K7M2QX" cancels')
  .argument('<from>', "the holder's mobile, e.g. 13907970001 or +8613907970001")
  .argument('<text>', 'the reply text; quote it: "K7M2QX 第2场"')
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .action(async (from: string, text: string, opts: { url: string; token?: string; json?: boolean }) => {
    const { inboundText } = await import('../functions/adapters/local/cli/campaign-format.js');
    const result = await api(opts).post('/v1/inbound-sms', { from, text }, inboundOutcomeContract);
    print(opts.json === true, result, () => `${inboundText(result)}\n(回复短信见 / replies are in: certalarm outbox)`);
  });

program
  .command('purge')
  .description('delete certificates expired more than CERTALARM_RETENTION_YEARS ago and their delivery records (operators); --dry-run only counts them')
  .option('--dry-run', 'count what would be purged: nothing is deleted or recorded')
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .action(async (opts: { url: string; token?: string; json?: boolean; dryRun?: boolean }) => {
    const result = await api(opts).post('/v1/purges', { dryRun: opts.dryRun === true }, purgeResultContract);
    print(opts.json === true, result, () =>
      [
        result.dryRun
          ? `dry run: ${result.certificates} certificate(s) expired before ${result.cutoff} (kept ${result.retentionYears} years) and ${result.deliveries} delivery record(s) would be purged; nothing was deleted`
          : `purged ${result.certificates} certificate(s) expired before ${result.cutoff} (kept ${result.retentionYears} years) and ${result.deliveries} delivery record(s)` +
            (result.state === 'done' ? '' : ' so far — the purge stopped at its time budget; run it again, or the daily job continues it'),
        ...Object.entries(result.byType ?? {}).map(([type, count]) => `  ${type.padEnd(40)} ${count}`),
      ].join('\n'),
    );
  });

program
  .command('audit')
  .description('the audit trail of writes by people, newest first (operators)')
  .option('--since <iso>', 'only entries at or after this instant (or day, YYYY-MM-DD)')
  .option('--actor <subject>', 'only this person, e.g. token:admin')
  .option('--action <action>', 'only this action (calendar.load) or kind (import, token, certificates, calendar, rules)')
  .option('--limit <n>', 'entries per page', positiveInt, 50)
  .option('--all', 'follow the pages to the end of the trail')
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .action(async (opts: { url: string; token?: string; json?: boolean; since?: string; actor?: string; action?: string; limit: number; all?: boolean }) => {
    const client = api(opts);
    const entries: Array<z.infer<typeof auditEntryContract>> = [];
    let cursor: string | undefined;
    do {
      const query = new URLSearchParams({
        limit: String(Math.max(1, opts.limit)),
        ...(opts.since !== undefined ? { since: opts.since } : {}),
        ...(opts.actor !== undefined ? { actor: opts.actor } : {}),
        ...(opts.action !== undefined ? { action: opts.action } : {}),
        ...(cursor !== undefined ? { cursor } : {}),
      });
      const page = await client.get(`/v1/audit?${query.toString()}`, auditPageContract);
      entries.push(...page.items);
      cursor = page.nextCursor;
    } while (opts.all === true && cursor !== undefined);
    print(opts.json === true, entries, () =>
      entries.length === 0 ? 'no audit entries match' : entries.map((e) => `${e.at}  ${e.actor} (${e.role})  ${e.action}  ${e.target}  ${e.summary}`).join('\n'),
    );
  });

program
  .command('deliveries')
  .description('who was told what and when: each SMS with its delivery status, newest first (operators and bureaus)')
  .addOption(new Option('--status <status>', 'only this status').choices(['sent', 'delivered', 'failed', 'suppressed', 'deferred']))
  .option('--type <type>', 'only this certificate type (code or Chinese name)')
  .option('--number <number>', 'only this certificate number')
  .option('--phone <phone>', 'only messages to this mobile (matched through a keyed hash; shown masked)')
  .option('--since <iso>', 'only messages sent at or after this instant (or day, YYYY-MM-DD)')
  .option('--attention', 'only final reminders that failed, or were not confirmed within 24 hours: phone these holders')
  .option('--limit <n>', 'messages per page', positiveInt, 100)
  .option('--all', 'follow the pages to the end')
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .action(
    async (opts: { url: string; token?: string; json?: boolean; status?: string; type?: string; number?: string; phone?: string; since?: string; attention?: boolean; limit: number; all?: boolean }) => {
      if (opts.attention === true && (opts.status ?? opts.type ?? opts.number ?? opts.phone) !== undefined) {
        throw new InvalidArgumentError('--attention takes only --since and --limit: it lists the final reminders that need a phone call');
      }
      const client = api(opts);
      const items: Array<z.infer<typeof deliveryContract> & { why?: string }> = [];
      let cursor: string | undefined;
      do {
        const query = new URLSearchParams({
          limit: String(opts.limit),
          ...(opts.status !== undefined ? { status: opts.status } : {}),
          ...(opts.type !== undefined ? { type: opts.type } : {}),
          ...(opts.number !== undefined ? { number: opts.number } : {}),
          ...(opts.phone !== undefined ? { phone: opts.phone } : {}),
          ...(opts.since !== undefined ? { since: opts.since } : {}),
          ...(cursor !== undefined ? { cursor } : {}),
        });
        const page = await (opts.attention === true
          ? client.get(`/v1/deliveries/attention?${query.toString()}`, attentionPageContract)
          : client.get(`/v1/deliveries?${query.toString()}`, deliveryPageContract));
        items.push(...page.items);
        cursor = page.nextCursor;
      } while (opts.all === true && cursor !== undefined);
      print(opts.json === true, items, () =>
        items.length === 0
          ? opts.attention === true
            ? 'no final reminder needs a phone call'
            : 'no deliveries match'
          : items
              .map((d) =>
                [d.sentAt, d.type ?? '-', d.number ?? '-', d.kind, d.to ?? '-', d.why !== undefined ? `${d.status} (${d.why})` : d.status, d.reason ?? '', d.messageId ?? '']
                  .filter((part) => part !== '')
                  .join('  '),
              )
              .join('\n'),
      );
    },
  );

const suppressions = program
  .command('suppressions')
  .description('the numbers that opted out of SMS (退订): list them, or reinstate one (operators); a bureau sees its own holders\' numbers');

type SuppressionEntry = z.infer<typeof suppressionContract>;

suppressions
  .command('list')
  .description('every suppressed number, masked, with how it came on the list and when, in phone-number order')
  .option('--limit <n>', 'entries per page', positiveInt, 100)
  .option('--all', 'follow the pages to the end')
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .action(async (opts: { url: string; token?: string; json?: boolean; limit: number; all?: boolean }) => {
    const client = api(opts);
    const entries: SuppressionEntry[] = [];
    let cursor: string | undefined;
    do {
      const query = new URLSearchParams({ limit: String(opts.limit), ...(cursor !== undefined ? { cursor } : {}) });
      const page = await client.get(`/v1/suppressions?${query.toString()}`, suppressionPageContract);
      entries.push(...page.items);
      cursor = page.nextCursor;
    } while (opts.all === true && cursor !== undefined);
    print(opts.json === true, entries, () =>
      entries.length === 0
        ? 'no number is on the suppression list / 退订名单为空'
        : [
            ...entries.map((e) => [e.phone, e.source.padEnd(17), e.at, e.detail ?? ''].filter((part) => part !== '').join('  ')),
            ...(cursor !== undefined ? ['… more: --all follows every page'] : []),
          ].join('\n'),
    );
  });

suppressions
  .command('reinstate')
  .description('take a number off the suppression list so it receives SMS again (operators; audited with the number masked)')
  .argument('<phone>', 'the mobile number, in any usual form (13900000001, +86 139 0000 0001)')
  .option('--comment <text>', 'why, e.g. "本人来电要求恢复" (required); kept in the audit log')
  .addOption(urlOption())
  .addOption(tokenOption())
  .addOption(jsonOption())
  .action(async (phone: string, opts: { url: string; token?: string; json?: boolean; comment?: string }) => {
    if (opts.comment === undefined || opts.comment.trim() === '') throw new InvalidArgumentError('suppressions reinstate needs --comment "<why>" / 需要说明恢复发送的原因');
    const result = await api(opts).delete(`/v1/suppressions/${encodeURIComponent(phone)}`, { comment: opts.comment }, reinstatedContract);
    const atSns = result.providerOptIn.status === 'refused' ? `\nSNS: ${result.providerOptIn.message}` : result.providerOptIn.status === 'opted-in' ? '\nSNS: 已重新订阅 / opted back in' : '';
    print(opts.json === true, result, () => `${result.phone} reinstated / 已恢复发送 (was ${result.source} since ${result.at}): it receives SMS again${atSns}`);
  });

program
  .command('catalogue')
  .description('list the 42 certificate types with their renewal windows')
  .addOption(jsonOption())
  .action(async (opts: { json?: boolean }) => {
    const { loadReferenceData } = await import('../functions/app/reference-data.js');
    const types = loadReferenceData().catalogue.all();
    const { catalogueTable } = await import('../functions/adapters/local/cli/catalogue-table.js');
    print(opts.json === true, types, () => catalogueTable(types));
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  // A person's mistake (a bad setting, a taken port, a missing argument) deserves one line that says what to
  // do; a stack trace only hides it. Whoever debugs the program itself sets LOG_LEVEL=debug.
  const debug = process.env.LOG_LEVEL === 'debug';
  const message = error instanceof Error ? error.message : String(error);
  const known =
    error instanceof ApiError ||
    error instanceof InvalidArgumentError ||
    error instanceof SettingsError ||
    error instanceof PortInUseError ||
    (error as NodeJS.ErrnoException).code === 'ENOENT';
  process.stderr.write(`certalarm: ${message}${known || debug ? '' : ' (LOG_LEVEL=debug shows where it happened)'}\n`);
  if (debug && error instanceof Error && error.stack !== undefined) process.stderr.write(`${error.stack}\n`);
  process.exitCode = 1;
});
