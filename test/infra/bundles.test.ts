import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { esbuildOptions, HANDLER_ENTRIES, type HandlerName, lambdaBundlingOptions, PROJECT_ROOT } from '../../lib/bundling.js';
import { HTTP_GROUPS, ROUTE_MODULE_GROUPS, type HttpGroup, type RouteModuleName } from '../../functions/app/http/route-groups.js';

/**
 * What each Lambda bundle evaluates when it loads. A module reached only through `import()` is still in
 * the (single-file) bundle, but esbuild wraps it so that it runs on first use: only the modules reached
 * by static imports from the entry cost init time on every cold start (bench/bundles.ts measures it).
 * That works for a part nothing else in the bundle imports (the spreadsheet readers): esbuild wraps the
 * static imports of a lazily loaded module too, and a module it wraps is no longer tree-shaken, so an
 * SDK client loaded with `import()` drags its share of the SDK's core along and costs more than it saves.
 */
const metafiles = new Map<HandlerName, Metafile>();
const sourceMaps = new Map<HandlerName, { sources: string[]; sourcesContent?: unknown }>();

beforeAll(async () => {
  for (const [name, entry] of Object.entries(HANDLER_ENTRIES) as [HandlerName, string][]) {
    const outfile = join(PROJECT_ROOT, '.certalarm', 'infra-test-bundles', name, 'index.mjs');
    const result = await build({ ...esbuildOptions(entry, outfile), write: false, metafile: true });
    metafiles.set(name, result.metafile);
    const map = result.outputFiles.find((file) => file.path.endsWith('.map'))!;
    sourceMaps.set(name, JSON.parse(map.text) as { sources: string[]; sourcesContent?: unknown });
  }
});

function outputOf(name: HandlerName): Metafile['outputs'][string] {
  return Object.values(metafiles.get(name)!.outputs).find((o) => o.entryPoint !== undefined)!;
}

/** The inputs bundled at all, evaluated at load or not (an input tree-shaken to nothing is not). */
function bundled(name: HandlerName): string[] {
  return Object.entries(outputOf(name).inputs)
    .filter(([, input]) => input.bytesInOutput > 0)
    .map(([path]) => path);
}

/** The bundled inputs evaluated at load: the entry and everything it imports statically, transitively. */
function evaluatedAtLoad(name: HandlerName): string[] {
  const metafile = metafiles.get(name)!;
  const output = outputOf(name);
  const seen = new Set<string>([output.entryPoint!]);
  const queue = [output.entryPoint!];
  for (let input = queue.pop(); input !== undefined; input = queue.pop()) {
    for (const imported of metafile.inputs[input]?.imports ?? []) {
      if (imported.kind === 'dynamic-import' || imported.external === true || seen.has(imported.path)) continue;
      seen.add(imported.path);
      queue.push(imported.path);
    }
  }
  const inBundle = new Set(bundled(name));
  return [...seen].filter((input) => inBundle.has(input));
}

const from = (inputs: string[], pattern: RegExp) => inputs.filter((input) => pattern.test(input));

const LAMBDA_CLIENT = /node_modules\/@aws-sdk\/client-lambda\//;
const SNS_CLIENT = /node_modules\/@aws-sdk\/client-sns\//;
const SQS_CLIENT = /node_modules\/@aws-sdk\/client-sqs\//;
const SCHEDULER_CLIENT = /node_modules\/@aws-sdk\/client-scheduler\//;
const CSV_READER = /node_modules\/csv-parse\//;
const XLSX_READER = /node_modules\/(fflate|saxes)\/|functions\/adapters\/import\/xlsx-workbook\.ts$/;

describe('Lambda bundles', () => {
  describe('HTTP API', () => {
    const HTTP_BUNDLES: Record<HttpGroup, HandlerName> = {
      certificates: 'httpCertificates',
      rules: 'httpRules',
      campaigns: 'httpCampaigns',
      bookings: 'httpBookings',
      deliveries: 'httpDeliveries',
    };
    const routeModule = (input: string) => /functions\/app\/http\/routes\/([a-z-]+)\.ts$/.exec(input)?.[1];

    it('has one bundle per route group', () => {
      expect(Object.keys(HTTP_BUNDLES).sort()).toEqual([...HTTP_GROUPS].sort());
      for (const name of Object.values(HTTP_BUNDLES)) expect(Object.keys(HANDLER_ENTRIES)).toContain(name);
    });

    it('bundles in each group’s function the route modules of that group, and no other group’s', () => {
      for (const group of HTTP_GROUPS) {
        const modules = bundled(HTTP_BUNDLES[group]).map(routeModule).filter((m) => m !== undefined).sort();
        const ofGroup = (Object.keys(ROUTE_MODULE_GROUPS) as RouteModuleName[]).filter((m) => ROUTE_MODULE_GROUPS[m] === group).sort();
        expect({ group, modules }).toEqual({ group, modules: ofGroup });
      }
    });

    it('carries the SNS client only where a route texts a holder (bookings) or opts a reinstated number back in (deliveries), and the Scheduler client only where one schedules (campaigns)', () => {
      for (const group of HTTP_GROUPS) {
        expect({ group, sns: from(bundled(HTTP_BUNDLES[group]), SNS_CLIENT).length > 0 }).toEqual({ group, sns: group === 'bookings' || group === 'deliveries' });
        expect({ group, scheduler: from(bundled(HTTP_BUNDLES[group]), SCHEDULER_CLIENT).length > 0 }).toEqual({ group, scheduler: group === 'campaigns' });
      }
    });

    it('carries no Lambda client: POST /v1/scans invokes the scan function with one signed request', () => {
      for (const name of Object.values(HTTP_BUNDLES)) expect(from(bundled(name), LAMBDA_CLIENT)).toEqual([]);
    });

    it('loads a route module’s use cases on the route’s first request, not at a cold start', () => {
      expect(from(bundled('httpCampaigns'), /functions\/app\/http\/routes\/campaigns\.ts$/)).not.toEqual([]);
      for (const name of Object.values(HTTP_BUNDLES)) {
        const atLoad = evaluatedAtLoad(name);
        expect(from(atLoad, /functions\/app\/http\/routes\//)).toEqual([]);
        expect(from(atLoad, /functions\/app\/(campaigns\/|inbound\/|rules\/(change|preview)-rule)/)).toEqual([]);
      }
    });

    it('carries no spreadsheet reader and no SQS client', () => {
      for (const name of Object.values(HTTP_BUNDLES)) {
        expect(from(bundled(name), CSV_READER)).toEqual([]);
        expect(from(bundled(name), XLSX_READER)).toEqual([]);
        expect(from(bundled(name), SQS_CLIENT)).toEqual([]);
      }
    });
  });

  describe('import worker', () => {
    it('loads the CSV reader on its first CSV and the xlsx reader on its first xlsx', () => {
      expect(from(bundled('importWorker'), CSV_READER)).not.toEqual([]);
      expect(from(bundled('importWorker'), XLSX_READER)).not.toEqual([]);
      expect(from(evaluatedAtLoad('importWorker'), CSV_READER)).toEqual([]);
      expect(from(evaluatedAtLoad('importWorker'), XLSX_READER)).toEqual([]);
    });

    it('carries no SQS client: a continuation is one signed SendMessage', () => {
      expect(from(bundled('importWorker'), SQS_CLIENT)).toEqual([]);
    });

    it('carries no Lambda or SNS client', () => {
      expect(from(bundled('importWorker'), LAMBDA_CLIENT)).toEqual([]);
      expect(from(bundled('importWorker'), SNS_CLIENT)).toEqual([]);
    });
  });

  describe('source maps', () => {
    it('map every bundle back to its TypeScript without carrying the sources’ text, in the stack as in the benchmark', () => {
      for (const name of Object.keys(HANDLER_ENTRIES) as HandlerName[]) {
        const map = sourceMaps.get(name)!;
        const entry = HANDLER_ENTRIES[name].split(/[\\/]/).slice(-3).join('/');
        expect(map.sources.some((source) => source.endsWith(entry))).toBe(true);
        // Node parses the whole map at load under --enable-source-maps: the text would triple it.
        expect(map.sourcesContent).toBeUndefined();
      }
      expect(lambdaBundlingOptions()).toMatchObject({ sourceMap: true, sourcesContent: false });
    });
  });

  describe('due scan', () => {
    it('carries no spreadsheet reader, and no Lambda, SQS or S3 client', () => {
      const inputs = bundled('dueScan');
      expect(from(inputs, CSV_READER)).toEqual([]);
      expect(from(inputs, XLSX_READER)).toEqual([]);
      expect(from(inputs, LAMBDA_CLIENT)).toEqual([]);
      expect(from(inputs, SQS_CLIENT)).toEqual([]);
      expect(from(inputs, /node_modules\/@aws-sdk\/client-s3\//)).toEqual([]);
    });
  });
});
