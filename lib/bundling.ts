import { fileURLToPath } from 'node:url';
import type { BuildOptions } from 'esbuild';
import { OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';

/**
 * How every Lambda handler is bundled. The stack (NodejsFunction) and the bundle benchmark
 * (bench/bundles.ts, esbuild's API) both read these options, so the benchmark measures what ships.
 */

/** Repository root, for resolving handler entries independent of the working directory. */
export const PROJECT_ROOT = fileURLToPath(new URL('../', import.meta.url));

/** The Lambda entry points, each exporting `handler`. */
export const HANDLER_ENTRIES = {
  // The HTTP API: one function per route group (functions/app/http/route-groups.ts), each bundling its routes only.
  httpCertificates: fileURLToPath(new URL('../functions/handlers/http-certificates.ts', import.meta.url)),
  httpRules: fileURLToPath(new URL('../functions/handlers/http-rules.ts', import.meta.url)),
  httpCampaigns: fileURLToPath(new URL('../functions/handlers/http-campaigns.ts', import.meta.url)),
  httpBookings: fileURLToPath(new URL('../functions/handlers/http-bookings.ts', import.meta.url)),
  httpDeliveries: fileURLToPath(new URL('../functions/handlers/http-deliveries.ts', import.meta.url)),
  dueScan: fileURLToPath(new URL('../functions/handlers/due-scan.ts', import.meta.url)),
  importWorker: fileURLToPath(new URL('../functions/handlers/import-worker.ts', import.meta.url)),
  deliveryStatus: fileURLToPath(new URL('../functions/handlers/delivery-status.ts', import.meta.url)),
  campaignJob: fileURLToPath(new URL('../functions/handlers/campaign-job.ts', import.meta.url)),
  inboundSms: fileURLToPath(new URL('../functions/handlers/inbound-sms.ts', import.meta.url)),
} as const;

export type HandlerName = keyof typeof HANDLER_ENTRIES;

/**
 * ESM output needs a `require` for the CommonJS dependencies esbuild inlines (parts of the AWS SDK
 * and smithy still call `require` at run time); createRequire provides one.
 */
export const ESM_REQUIRE_BANNER = 'import { createRequire } from "module"; const require = createRequire(import.meta.url);';

export const BUNDLE = {
  format: 'esm',
  minify: true,
  sourceMap: true,
  /**
   * The maps carry positions and file names, not the sources' text: stack traces still name the
   * TypeScript file, line and column, and the map is a third of the size. With --enable-source-maps
   * Node reads and parses the whole map while it loads the bundle, so its size is cold-start time.
   */
  sourcesContent: false,
  target: 'node22',
  mainFields: ['module', 'main'],
  /**
   * Text as UTF-8 rather than `\uXXXX` escapes: Node reads every module as UTF-8, and each Chinese
   * character (the messages, the catalogue, the holiday names) then takes 3 bytes instead of 6.
   */
  charset: 'utf8',
  banner: ESM_REQUIRE_BANNER,
  /**
   * Nothing is external: the AWS SDK is bundled rather than taken from the runtime, so the code runs
   * with the SDK version it was tested with, and tree-shaking keeps the bundle to what is used.
   */
  externalModules: [] as string[],
} as const;

/** Lambda resolves `NODE_OPTIONS` before the handler loads: stack traces map back to the TypeScript. */
export const NODE_OPTIONS = '--enable-source-maps';

/**
 * The reference data (catalogue, townships, holidays) is read from files at run time; it is copied next to
 * the bundle and the function is told where (`CERTALARM_REFERENCE_DIR`). /var/task is Lambda's task root.
 */
export const REFERENCE_DATA_DIR_IN_BUNDLE = 'data';
export const REFERENCE_DATA_DIR_ON_LAMBDA = `/var/task/${REFERENCE_DATA_DIR_IN_BUNDLE}`;

/** The options for `NodejsFunction`; esbuild always runs locally, never in Docker. */
export function lambdaBundlingOptions(): BundlingOptions {
  return {
    format: OutputFormat.ESM,
    minify: BUNDLE.minify,
    sourceMap: BUNDLE.sourceMap,
    sourcesContent: BUNDLE.sourcesContent,
    target: BUNDLE.target,
    mainFields: [...BUNDLE.mainFields],
    // Not the `charset` property: this aws-cdk-lib (2.276) does not pass it on to esbuild.
    esbuildArgs: { '--charset': BUNDLE.charset },
    banner: BUNDLE.banner,
    externalModules: [...BUNDLE.externalModules],
    forceDockerBundling: false,
    commandHooks: {
      beforeBundling: () => [],
      beforeInstall: () => [],
      afterBundling: (inputDir, outputDir) => [`cp -R "${inputDir}/data" "${outputDir}/${REFERENCE_DATA_DIR_IN_BUNDLE}"`],
    },
  };
}

/** The same build through esbuild's API, as NodejsFunction runs it (bundle, platform node, `.mjs` output). */
export function esbuildOptions(entry: string, outfile: string): BuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: BUNDLE.format,
    minify: BUNDLE.minify,
    sourcemap: BUNDLE.sourceMap,
    sourcesContent: BUNDLE.sourcesContent,
    target: BUNDLE.target,
    mainFields: [...BUNDLE.mainFields],
    charset: BUNDLE.charset,
    banner: { js: BUNDLE.banner },
    external: [...BUNDLE.externalModules],
    logLevel: 'warning',
  };
}
