import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { HANDLER_ENTRIES, type HandlerName, PROJECT_ROOT } from '../../lib/bundling.js';
import { CertalarmStack } from '../../lib/certalarm-stack.js';
import { loadDeploymentConfig } from '../../lib/config.js';

/** The feature flags and settings of cdk.json, so tests see the template a deployment gets. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  return cdkJson.context ?? {};
}

/**
 * The handler entries to build the stack from. Bundling is skipped in tests, so the files' contents do not
 * matter, but NodejsFunction still insists that each entry exists under the project root. While a
 * handler has not been written yet, an empty stand-in in the git-ignored work directory takes its place;
 * once functions/handlers/<name>.ts exists, the real file is used.
 */
export function testEntries(): Record<HandlerName, string> {
  const entries = { ...HANDLER_ENTRIES };
  for (const name of Object.keys(entries) as HandlerName[]) {
    if (existsSync(entries[name])) continue;
    const dir = join(PROJECT_ROOT, '.certalarm', 'infra-test-entries');
    mkdirSync(dir, { recursive: true });
    const standIn = join(dir, `${name}.ts`);
    writeFileSync(standIn, '// Stand-in entry for infrastructure tests; bundling is skipped.\nexport {};\n');
    entries[name] = standIn;
  }
  return entries;
}

/** Build the stack for a stage as bin/app.ts does, with bundling skipped (no esbuild run, seconds not minutes). */
export function synthStack(stage: 'dev' | 'prod'): { app: App; stack: CertalarmStack } {
  const app = new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] } });
  const config = loadDeploymentConfig(stage);
  const stack = new CertalarmStack(app, `Certalarm-${stage}`, {
    config,
    entries: testEntries(),
    env: { ...(config.region !== undefined ? { region: config.region } : {}) },
  });
  return { app, stack };
}
