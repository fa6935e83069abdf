import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DynamoDbImportStore } from '../../functions/adapters/aws/dynamodb/dynamodb-import-store.js';
import { LocalImportWorker } from '../../functions/adapters/local/local-import-worker.js';
import { LocalImportFiles } from '../../functions/adapters/local/local-imports.js';
import { createImport, startResume, type ImportDeps } from '../../functions/app/imports/run-import.js';
import type { SpreadsheetOpener } from '../../functions/core/ports.js';
import { silentLogger } from '../../functions/app/logger.js';
import { loadReferenceData } from '../../functions/app/reference-data.js';
import { dynamoTestClient } from '../support/dynamo.js';
import { fixedClock, freshStore, testSettings, validUscc } from '../support/fixtures.js';

const HEADER = '证照类型,证照编号,持证主体,统一社会信用代码,联系电话,所属乡镇,发证日期,有效期至';

interface Harness {
  deps: ImportDeps;
  imports: DynamoDbImportStore;
  /** How often the file was opened: each open is a run of the import. */
  opened(): number;
  submit(): Promise<string>;
}

/**
 * Imports whose file "crashes" the reader the way no import can record: a plain error, as a dead
 * DynamoDB Local or an out-of-memory death leaves an import open. Each new worker is a new start.
 */
async function harness(prefix: string, opener?: SpreadsheetOpener): Promise<Harness> {
  const store = await freshStore(prefix);
  const imports = new DynamoDbImportStore(dynamoTestClient(), store.tableName);
  const dir = mkdtempSync(join(tmpdir(), 'certalarm-restarts-'));
  const files = new LocalImportFiles(dir);
  let opened = 0;
  const crashing: SpreadsheetOpener = () => {
    opened += 1;
    return Promise.reject(new Error('JavaScript heap out of memory'));
  };
  const deps: ImportDeps = {
    store,
    reference: loadReferenceData(),
    settings: testSettings(),
    imports,
    openSpreadsheet: opener ?? crashing,
    removeFile: (key) => files.remove(key),
    limits: { maxBytes: 50_000_000, maxRows: 100_000 },
    logger: silentLogger,
    clock: fixedClock('2026-08-01T10:00:00+08:00'),
  };
  return {
    deps,
    imports,
    opened: () => opened,
    async submit() {
      const content = `${HEADER}\n农药经营许可证,NY-1,兴国县测试农资店,${validUscc(1)},13900000001,潋江镇,2021-12-21,2026-12-20\n`;
      const blobKey = join(dir, 'poison.csv');
      writeFileSync(blobKey, content);
      const { record } = await createImport(deps, { role: 'operator', subject: 'token:admin' }, {
        fileName: 'poison.csv',
        contentType: 'text/csv',
        bytes: content.length,
        sha256: createHash('sha256').update(content).digest('hex'),
        blobKey,
        options: { allOrNothing: false },
      });
      return record.id;
    },
  };
}

/** One start of the service's import worker: resume what is unfinished and wait until the queue is empty. */
async function serviceStart(deps: ImportDeps, submitted?: string): Promise<void> {
  const worker = new LocalImportWorker(deps);
  if (submitted !== undefined) worker.enqueue(submitted);
  else await worker.resumeUnfinished();
  await worker.idle();
}

describe('Local import worker: an import that stops the same way on every start', () => {
  it('is marked failed with the reason on the start after it stopped twice, and never resumed again', async () => {
    // Prepare: the import's first run stops (start 1), and so does its resume (start 2).
    const h = await harness('restart-poison');
    const id = await h.submit();
    await serviceStart(h.deps, id);
    await serviceStart(h.deps);
    const beforeThirdStart = h.opened();

    // Act
    await serviceStart(h.deps);
    await serviceStart(h.deps);

    // Assess
    expect(beforeThirdStart).toBe(2);
    expect(h.opened()).toBe(2);
    const record = await h.imports.getImport(id);
    expect(record?.state).toBe('failed');
    expect(record?.failure?.code).toBe('interrupted_repeatedly');
    expect(record?.failure?.message).toMatch(/^导入在连续两次启动中都在同一处.*不再自动继续.* \/ the import stopped at the same point .* on two starts in a row and is not resumed again/);
    expect(await h.imports.openImports()).not.toContain(id);
  });

  it('counts a resume before running it, so a process killed during the resume still counts', async () => {
    // Prepare: the first run died without a trace, then a resume was started and the process killed in it.
    const h = await harness('restart-killed');
    const id = await h.submit();
    const firstResume = await startResume(h.deps, id);

    // Act
    const secondResume = await startResume(h.deps, id);

    // Assess
    expect(firstResume).toBe(true);
    expect(secondResume).toBe(false);
    expect((await h.imports.getImport(id))?.state).toBe('failed');
  });

  it('keeps resuming an import that got further since its last start', async () => {
    // Prepare: a resume, then progress stored by it before the process died.
    const h = await harness('restart-progress');
    const id = await h.submit();
    await startResume(h.deps, id);
    const record = (await h.imports.getImport(id))!;
    await h.imports.saveImport({ ...record, revision: record.revision + 1, state: 'storing', checkpointRow: 1001, progressRows: 1000 });

    // Act
    const resumed = await startResume(h.deps, id);

    // Assess
    expect(resumed).toBe(true);
    expect((await h.imports.getImport(id))).toMatchObject({ state: 'storing', resumes: { attempts: 1 } });
  });
});
