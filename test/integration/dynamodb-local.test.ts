import { CreateTableCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { endianness, networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it, vi } from 'vitest';
import {
  localDynamoClientConfig,
  startDynamoDbLocal,
  type DynamoDbLocal,
} from '../../functions/adapters/local/dynamodb-local.js';
import { dynamoTestClient, uniqueTableName } from '../support/dynamo.js';

describe('Adapter: DynamoDB Local launcher', () => {
  const started: DynamoDbLocal[] = [];
  const scratchDirs: string[] = [];

  afterEach(async () => {
    vi.unstubAllEnvs();
    await Promise.all(started.splice(0).map((instance) => instance.stop()));
    await Promise.all(scratchDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  const start = async (options: Parameters<typeof startDynamoDbLocal>[0]): Promise<DynamoDbLocal> => {
    const instance = await startDynamoDbLocal(options);
    started.push(instance);
    return instance;
  };

  it('answers ListTables on 127.0.0.1 through the provided endpoint', async () => {
    // Prepare
    const client = dynamoTestClient();

    // Act
    const tables = await client.send(new ListTablesCommand({}));
    client.destroy();

    // Assess
    expect(inject('dynamoEndpoint')).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(tables.TableNames).toBeInstanceOf(Array);
  });

  it('binds to 127.0.0.1 only', async () => {
    // Prepare
    const port = portOf(inject('dynamoEndpoint'));

    // Act
    const addresses = await listeningAddresses(port);

    // Assess
    expect(addresses).toEqual(['127.0.0.1']);
  });

  it("refuses connections on the machine's non-loopback addresses", async () => {
    // Prepare
    const port = portOf(inject('dynamoEndpoint'));
    const outward = nonLoopbackAddresses();

    // Act
    const loopback = await connectOutcome('127.0.0.1', port);
    const elsewhere = await Promise.all(outward.map(async (address) => ({ address, outcome: await connectOutcome(address, port) })));

    // Assess
    expect(loopback).toBe('connected');
    expect(elsewhere).toEqual(outward.map((address) => ({ address, outcome: 'ECONNREFUSED' })));
  });

  it('keeps tables in a dbPath across a stop and a restart', async () => {
    // Prepare
    const dbPath = await mkdtemp(join(tmpdir(), 'certalarm-dynamodb-local-'));
    scratchDirs.push(dbPath);
    const tableName = uniqueTableName('persisted');
    const first = await start({ dbPath });
    const firstClient = new DynamoDBClient(localDynamoClientConfig(first.endpoint));
    await firstClient.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    firstClient.destroy();
    await first.stop();

    // Act
    const second = await start({ dbPath });
    const secondClient = new DynamoDBClient(localDynamoClientConfig(second.endpoint));
    const tables = await secondClient.send(new ListTablesCommand({}));
    secondClient.destroy();

    // Assess
    expect(tables.TableNames).toContain(tableName);
  });

  it('frees its port when stopped', async () => {
    // Prepare
    const instance = await start({});

    // Act
    await instance.stop();

    // Assess
    expect(await connectOutcome('127.0.0.1', instance.port)).toBe('ECONNREFUSED');
  });

  it('caps the JVM heap and picks the small-footprint collector when given a heap limit', async () => {
    // Prepare
    const instance = await start({ heapMb: 64 });

    // Act
    const flags = await jvmArguments(instance.pid);

    // Assess
    expect(flags).toEqual(expect.arrayContaining(['-Xmx64m', '-Xms16m', '-XX:+UseSerialGC', '-XX:MaxHeapFreeRatio=30', '-XX:+ExitOnOutOfMemoryError']));
    const client = new DynamoDBClient(localDynamoClientConfig(instance.endpoint));
    await expect(client.send(new ListTablesCommand({}))).resolves.toHaveProperty('TableNames');
    client.destroy();
  });

  it('keeps the capped JVM small under load: a small young generation, native heap trimmed, a small code cache', async () => {
    // Prepare
    const instance = await start({ heapMb: 64 });

    // Act
    const flags = await jvmArguments(instance.pid);

    // Assess
    expect(flags).toEqual(expect.arrayContaining(['-Xmn4m', '-XX:-ShrinkHeapInSteps', '-XX:TrimNativeHeapInterval=5000', '-XX:ReservedCodeCacheSize=16m']));
  });

  it("leaves the JVM its own heap default without a limit (the tests' in-memory instance holds up to a million items)", async () => {
    // Prepare
    const instance = await start({});

    // Act
    const flags = await jvmArguments(instance.pid);

    // Assess
    expect(flags.filter((flag) => /^-Xm[xs]|^-XX:\+Use\w+GC$/.test(flag))).toEqual([]);
  });

  it("caps only the heap with maxHeapMb, keeping the JVM's own collector and generations (benchmarks, where throughput counts)", async () => {
    // Prepare
    const instance = await start({ maxHeapMb: 256 });

    // Act
    const flags = await jvmArguments(instance.pid);

    // Assess
    expect(flags.filter((flag) => /^-Xm[xsn]|^-XX:\+Use\w+GC$/.test(flag))).toEqual(['-Xmx256m']);
    expect(flags).toContain('-XX:+ExitOnOutOfMemoryError');
  });

  it('refuses a heap limit too small to run on, before starting anything', async () => {
    // Act
    const starting = start({ heapMb: 8 });

    // Assess
    await expect(starting).rejects.toThrow(/at least 32/);
  });

  it('says Java is required when java is not on the PATH', async () => {
    // Prepare
    const emptyDir = await mkdtemp(join(tmpdir(), 'certalarm-no-java-'));
    scratchDirs.push(emptyDir);
    vi.stubEnv('PATH', emptyDir);

    // Act
    const starting = start({});

    // Assess
    await expect(starting).rejects.toThrow(/Java 17 is required/);
  });
});

/** The command line the JVM was started with, as the kernel has it. */
async function jvmArguments(pid: number | undefined): Promise<string[]> {
  if (pid === undefined) throw new Error('DynamoDB Local reported no pid');
  return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
}

function portOf(endpoint: string): number {
  return Number(new URL(endpoint).port);
}

/** Every address of this machine that is not loopback or link-local, IPv4 and IPv6. */
function nonLoopbackAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flatMap((entries) => entries ?? [])
    .filter((entry) => !entry.internal && !entry.address.startsWith('fe80:'))
    .map((entry) => entry.address);
}

type ConnectOutcome = 'connected' | 'timeout' | string;

function connectOutcome(host: string, port: number): Promise<ConnectOutcome> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(2_000, () => {
      socket.destroy();
      resolve('timeout');
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

/** Local addresses of the sockets listening on `port`, read from the kernel's own tables. */
async function listeningAddresses(port: number): Promise<string[]> {
  const tables = await Promise.all(['/proc/net/tcp', '/proc/net/tcp6'].map((file) => readFile(file, 'utf8').catch(() => '')));
  const LISTEN = '0A';
  return tables
    .flatMap((table) => table.split('\n').slice(1))
    .map((row) => row.trim().split(/\s+/))
    .filter((columns) => columns[3] === LISTEN)
    .map((columns) => (columns[1] ?? '').split(':'))
    .filter(([, hexPort]) => hexPort !== undefined && parseInt(hexPort, 16) === port)
    .map(([hexAddress]) => procAddress(hexAddress ?? ''));
}

/** /proc/net/tcp prints each 32-bit word of an address as a host-order hex number. */
function procAddress(hex: string): string {
  const bytes = (hex.match(/.{8}/g) ?? []).flatMap((word) => {
    const wordBytes = (word.match(/../g) ?? []).map((pair) => parseInt(pair, 16));
    return endianness() === 'LE' ? wordBytes.reverse() : wordBytes;
  });
  if (bytes.length === 4) return bytes.join('.');
  const v4Mapped = bytes.slice(0, 10).every((byte) => byte === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (v4Mapped) return `::ffff:${bytes.slice(12).join('.')}`;
  const groups: string[] = [];
  for (let i = 0; i < bytes.length; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  return groups.join(':');
}
