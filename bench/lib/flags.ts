import { parseArgs } from 'node:util';

export interface FlagSpec {
  description: string;
  default: number;
  /** Smallest accepted value; 1 unless said otherwise (0 lets a flag turn a phase off). */
  min?: number;
}

/**
 * Whole-number size flags (`--count 20000`) with `--help`. Every benchmark is sized by a few of
 * these, so a quick run is one flag away and the defaults are the sizes the README quotes.
 */
export function readFlags<K extends string>(usage: string, specs: Record<K, FlagSpec>, argv = process.argv.slice(2)): Record<K, number> {
  const names = Object.keys(specs) as K[];
  const options: Record<string, { type: 'string' } | { type: 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' } };
  for (const name of names) options[name] = { type: 'string' };
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false }));
  } catch (error) {
    fail(`${(error as Error).message}\n\n${helpText(usage, specs)}`);
  }
  if (values.help === true) {
    process.stdout.write(`${helpText(usage, specs)}\n`);
    process.exit(0);
  }
  const result = {} as Record<K, number>;
  for (const name of names) {
    const spec = specs[name];
    const raw = values[name];
    // Underscores and commas are allowed as digit separators: --large 1_000_000.
    const value = typeof raw === 'string' ? Number(raw.replace(/[_,]/g, '')) : spec.default;
    const min = spec.min ?? 1;
    if (!Number.isSafeInteger(value) || value < min) fail(`--${name} must be a whole number ≥ ${min}, got ${String(raw)}`);
    result[name] = value;
  }
  return result;
}

function helpText<K extends string>(usage: string, specs: Record<K, FlagSpec>): string {
  const rows = (Object.entries(specs) as Array<[string, FlagSpec]>).map(
    ([name, spec]) => `  --${name.padEnd(14)} ${spec.description} (default ${spec.default.toLocaleString('en-US')})`,
  );
  return `${usage}\n\nOptions:\n${rows.join('\n')}\n  --help, -h       show this help`;
}

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}
