import { randomBytes } from 'node:crypto';
import type { Principal } from '../core/access.js';
import type { AuditLog, Clock, ImportRecord } from '../core/ports.js';
import type { Logger } from '../core/ports.js';

export interface AuditDeps {
  /** Absent where nothing is audited (benchmarks, unit tests of other use cases). */
  audit?: AuditLog;
  clock: Clock;
  logger: Logger;
}

export interface AuditEvent {
  action: string;
  target: string;
  summary: string;
  details?: Record<string, unknown>;
}

/**
 * Adds one entry to the audit trail for a write a person made. The write itself has already
 * happened, so a failing audit store does not undo or fail it; it is logged as an error instead,
 * so that a gap in the trail is never silent.
 */
export async function recordAudit(deps: AuditDeps, who: { subject: string; role: string }, event: AuditEvent): Promise<void> {
  if (deps.audit === undefined) return;
  const at = deps.clock.now().toUTC().toISO() ?? '';
  try {
    await deps.audit.record({
      id: randomBytes(6).toString('hex'),
      at,
      actor: who.subject,
      role: who.role,
      action: event.action,
      target: event.target,
      summary: event.summary,
      ...(event.details !== undefined ? { details: event.details } : {}),
    });
  } catch (error) {
    deps.logger.error({ action: event.action, target: event.target, actor: who.subject, err: (error as Error).message }, 'audit entry not written');
  }
}

export function auditPrincipal(principal: Principal): { subject: string; role: string } {
  return { subject: principal.subject, role: principal.role };
}

/** An import reached its end (done or failed): recorded for the person who uploaded it, with its counts. */
export async function auditImportFinished(deps: AuditDeps, record: ImportRecord): Promise<void> {
  const c = record.counts;
  await recordAudit(deps, { subject: record.uploadedBy.subject, role: record.uploadedBy.role }, {
    action: 'import.finished',
    target: `import/${record.id}`,
    summary:
      record.state === 'done'
        ? `导入完成 ${record.fileName}：${c.rows} 行，接受 ${c.accepted}（新增 ${c.created}、续期 ${c.renewed}、更新 ${c.updated}、未变 ${c.unchanged}），拒绝 ${c.rejected} / import of ${record.fileName} done: ${c.rows} rows, ${c.accepted} accepted, ${c.rejected} rejected`
        : `导入失败 ${record.fileName} / import of ${record.fileName} failed: ${record.failure?.message ?? record.state}`,
    details: { state: record.state, fileName: record.fileName, sha256: record.sha256, counts: { ...c }, ...(record.failure !== undefined ? { failure: record.failure.code } : {}) },
  });
}
