import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, maskPhonesInText } from '../../functions/app/logger.js';

describe('Function: createLogger', () => {
  it('never writes a phone number unmasked, at any depth of the logged object', async () => {
    // Prepare
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger({ destination, level: 'info' });

    // Act
    logger.info({ to: '+8613912345678', nested: { phone: '13987654321', note: 'call 8613800001111' } }, 'sent');

    // Assess
    const output = lines.join('');
    expect(output).not.toMatch(/13912345678|13987654321|13800001111/);
    expect(output).toContain('+86139****5678');
    expect(output).toContain('139****4321');
  });

  it('masks phones inside objects held in arrays, and in a plain message', async () => {
    // Prepare
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger({ destination, level: 'info' });

    // Act
    logger.info({ rejected: [{ field: 'phone', value: '13912345678' }, [{ to: '+8613987654321' }]] }, 'rows refused');
    logger.warn({}, 'a message naming 13800001111');

    // Assess
    const output = lines.join('');
    expect(output).not.toMatch(/13912345678|13987654321|13800001111/);
    expect(output).toContain('139****5678');
    expect(output).toContain('138****1111');
  });
});

describe('Function: maskPhonesInText', () => {
  it('keeps the first three and last four digits', () => {
    expect(maskPhonesInText('给 +8613900000001 发送')).toBe('给 +86139****0001 发送');
  });

  it('masks a number written in groups with spaces or dashes, with or without +86', () => {
    expect(maskPhonesInText('回电 139 0000 0001、139-0000-0002 或 +86 139 0000 0003')).toBe('回电 139****0001、139****0002 或 +86 139****0003');
  });
});
