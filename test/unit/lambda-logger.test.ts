import { describe, expect, it } from 'vitest';
import { lambdaLogger } from '../../functions/adapters/aws/lambda-logger.js';

function recordingSink() {
  const records: Array<[string, unknown]> = [];
  const sink = {
    debug: (o: unknown) => records.push(['debug', o]),
    info: (o: unknown) => records.push(['info', o]),
    warn: (o: unknown) => records.push(['warn', o]),
    error: (o: unknown) => records.push(['error', o]),
  };
  return { records, sink };
}

describe('Function: lambdaLogger', () => {
  it('writes one structured record per call, with phone numbers masked', () => {
    // Prepare
    const { records, sink } = recordingSink();
    const logger = lambdaLogger({ sink });

    // Act
    logger.info({ to: '+8613912345678', stage: 'first' }, 'reminder sent');

    // Assess
    expect(records).toEqual([['info', { service: 'certalarm', msg: 'reminder sent', to: '+86139****5678', stage: 'first' }]]);
  });

  it('masks numbers in the message and in grouped forms too', () => {
    // Prepare
    const { records, sink } = recordingSink();
    const logger = lambdaLogger({ sink });

    // Act
    logger.warn({ text: '请回电 139 1234 5678' }, 'reply from 13987654321');

    // Assess
    expect(records).toEqual([['warn', { service: 'certalarm', msg: 'reply from 139****4321', text: '请回电 139****5678' }]]);
  });

  it('drops records below the configured level, and everything when silent', () => {
    // Prepare
    const warnOnly = recordingSink();
    const silent = recordingSink();

    // Act
    lambdaLogger({ level: 'warn', sink: warnOnly.sink }).info({}, 'quiet');
    lambdaLogger({ level: 'warn', sink: warnOnly.sink }).error({}, 'loud');
    lambdaLogger({ level: 'silent', sink: silent.sink }).error({}, 'nothing');

    // Assess
    expect(warnOnly.records.map(([level]) => level)).toEqual(['error']);
    expect(silent.records).toEqual([]);
  });
});
