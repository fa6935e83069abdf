import { describe, expect, it } from 'vitest';
import { mayPerform, maySeeSuppression, type Principal } from '../../functions/core/access.js';

const OPERATOR: Principal = { role: 'operator', subject: 'token:ops' };
const AGRICULTURE: Principal = { role: 'bureau', authority: 'agriculture_rural', subject: 'token:agri' };
const VIEWER: Principal = { role: 'viewer', subject: 'token:viewer' };
const TYPES = [
  { code: 'pesticide_business_license', authority: 'agriculture_rural' },
  { code: 'food_business_license', authority: 'market_regulation' },
];

describe('Function: mayPerform (suppression list)', () => {
  it('lets operators and bureaus read the list, and refuses a viewer in both languages', () => {
    // Act
    const decisions = [OPERATOR, AGRICULTURE, VIEWER].map((p) => mayPerform(p, 'readSuppressions'));

    // Assess
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, false]);
    expect(decisions[2]).toEqual({ allowed: false, reason: '只有发证部门和运维人员可以查看退订名单 / only a bureau or an operator may read the suppression list' });
  });

  it('lets only an operator reinstate a number', () => {
    // Act
    const decisions = [OPERATOR, AGRICULTURE, VIEWER].map((p) => mayPerform(p, 'reinstateSuppressions').allowed);

    // Assess
    expect(decisions).toEqual([true, false, false]);
  });
});

describe('Function: maySeeSuppression', () => {
  it('shows a bureau a number holding at least one type it issues, and no other', () => {
    // Act
    const own = maySeeSuppression(AGRICULTURE, new Set(['food_business_license', 'pesticide_business_license']), TYPES);
    const other = maySeeSuppression(AGRICULTURE, new Set(['food_business_license']), TYPES);
    const none = maySeeSuppression(AGRICULTURE, new Set(), TYPES);

    // Assess
    expect([own, other, none]).toEqual([true, false, false]);
  });

  it('shows an operator every number, even one holding no certificate, and a viewer none', () => {
    // Act
    const operator = maySeeSuppression(OPERATOR, new Set(), TYPES);
    const viewer = maySeeSuppression(VIEWER, new Set(['pesticide_business_license']), TYPES);

    // Assess
    expect([operator, viewer]).toEqual([true, false]);
  });
});
