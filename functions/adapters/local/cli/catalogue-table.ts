import stringWidth from 'string-width';
import type { CatalogueEntry } from '../../../core/catalogue.js';
import { renewalWindowInWords } from '../../../core/renewal-window-text.js';

const CONFIDENCE_WORDS = { high: '高 high', medium: '中 medium', low: '低 low' } as const;

/** Pads to a display width: a Chinese character takes two terminal columns, so `padEnd` misaligns. */
function padToWidth(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - stringWidth(text)));
}

/** A few official names run past 50 characters; cut them so each type stays on one line (--json has them whole). */
const NAME_MAX_WIDTH = 40;

function truncateToWidth(text: string, width: number): string {
  if (stringWidth(text) <= width) return text;
  let cut = '';
  for (const character of text) {
    if (stringWidth(`${cut}${character}…`) > width) break;
    cut += character;
  }
  return `${cut}…`;
}

/** The catalogue as a table a clerk can read in a terminal: code, name, window in words, authority, confidence. */
export function catalogueTable(types: readonly CatalogueEntry[]): string {
  const header = ['code', '名称 name', '申请期限 renewal window', '发证机关 authority', '可信度 confidence'];
  const rows = types.map((t) => [t.code, truncateToWidth(t.nameZh, NAME_MAX_WIDTH), renewalWindowInWords(t.renewalWindow), t.authority, CONFIDENCE_WORDS[t.confidence]]);
  const widths = header.map((title, column) => Math.max(stringWidth(title), ...rows.map((row) => stringWidth(row[column] ?? ''))));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : padToWidth(cell, widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
