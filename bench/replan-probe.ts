// Temporary probe (not committed): DynamoDB Local CPU per certificate of each step of a re-plan.
import { DateTime } from 'luxon';
import { DynamoDbStore, toItem } from '../functions/adapters/aws/dynamodb/dynamodb-store.js';
import { loadReferenceData } from '../functions/app/reference-data.js';
import { settingsFromEnvironment } from '../functions/app/settings.js';
import { addDays, todayIn } from '../functions/core/planning.js';
import { certificateFactory, newStoredCertificate } from './lib/certificates.js';
import { batchWriteStreams, putBatchesOf, startBenchDynamo } from './lib/dynamo.js';
import { timePhase } from './lib/measure.js';

const NOW = DateTime.fromISO('2026-12-01T10:00:00+08:00', { setZone: true });
const reference = loadReferenceData();
const settings = settingsFromEnvironment({});
const factory = certificateFactory(reference);
const TYPE_INDEX = reference.catalogue.all().findIndex((t) => t.code === 'pesticide_business_license');
const today = todayIn(NOW);
const count = Number(process.argv[2] ?? 20000);
const stored = Array.from({ length: count }, (_, k) => newStoredCertificate({ reference, settings }, factory.certificate(k, addDays(today, -30 + ((k * 7919) % 1125)), TYPE_INDEX), NOW));
const dynamo = await startBenchDynamo({ maxHeapMb: 4096 });
try {
  const table = await dynamo.freshTable('probe');
  const store = new DynamoDbStore(dynamo.client, table);
  await store.putCertificates(stored);
  const from = addDays(today, -130);
  const show = (name: string, p: { seconds: number; cpu: { dynamoCpuS?: number } }) =>
    console.log(`${name.padEnd(28)} ${p.seconds.toFixed(1)} s, DynamoDB Local ${(((p.cpu.dynamoCpuS ?? 0) / count) * 1000).toFixed(3)} ms/cert`);
  show('count', await timePhase(() => store.countCertificatesOfTypeExpiringFrom('pesticide_business_license', from)));
  show('keys-only count', await timePhase(async () => {
    const { QueryCommand } = await import('@aws-sdk/lib-dynamodb');
    const { accessPatterns } = await import('../functions/adapters/aws/dynamodb/keys.js');
    let n = 0;
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const r = await dynamo.doc.send(new QueryCommand({ TableName: table, ...accessPatterns.certificatesOfTypeExpiringFrom('pesticide_business_license', from), ProjectionExpression: 'pk', ExclusiveStartKey, Limit: 2000 }));
      n += r.Items?.length ?? 0;
      ExclusiveStartKey = r.LastEvaluatedKey;
    } while (ExclusiveStartKey !== undefined);
    return n;
  }));
  show('whole pages', await timePhase(async () => { let c: string | undefined; do { c = (await store.certificatesOfTypeExpiringFrom('pesticide_business_license', from, c)).nextCursor; } while (c !== undefined); }));
  show('projected pages', await timePhase(async () => { let c: string | undefined; do { c = (await store.planRowsOfTypeExpiringFrom('pesticide_business_license', from, c)).nextCursor; } while (c !== undefined); }));
  const items = stored.map((s) => toItem({ ...s, version: s.version + 1 }));
  show('raw write', await timePhase(() => batchWriteStreams(dynamo.doc, table, 4, putBatchesOf(items))));
  show('raw write again', await timePhase(() => batchWriteStreams(dynamo.doc, table, 4, putBatchesOf(items))));
} finally {
  await dynamo.stop();
}
