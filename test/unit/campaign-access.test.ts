import { describe, expect, it } from 'vitest';
import { mayManageCampaign } from '../../functions/core/campaigns/campaign-access.js';

const campaign = { id: 'cmp_spring2027', types: ['farm_machine_annual_inspection', 'farm_machine_operator_license'] };
const authorityOf = (type: string) => (type.startsWith('farm_machine_') ? 'agriculture_rural' : 'market_regulation');

describe('Function: mayManageCampaign', () => {
  it('allows an operator on every campaign', () => {
    // Act & Assess
    expect(mayManageCampaign({ role: 'operator', subject: 'ops' }, campaign, authorityOf)).toEqual({ allowed: true });
  });

  it('allows the bureau that issues every type of the campaign', () => {
    // Act & Assess
    expect(mayManageCampaign({ role: 'bureau', authority: 'agriculture_rural', subject: 'agri' }, campaign, authorityOf)).toEqual({ allowed: true });
  });

  it('refuses a bureau when any type is issued by someone else, naming those types', () => {
    // Act
    const decision = mayManageCampaign({ role: 'bureau', authority: 'agriculture_rural', subject: 'agri' }, { ...campaign, types: [...campaign.types, 'food_business_license'] }, authorityOf);

    // Assess
    expect(decision).toEqual({ allowed: false, reason: expect.stringContaining('food_business_license') });
  });

  it('refuses a viewer', () => {
    // Act & Assess
    expect(mayManageCampaign({ role: 'viewer', subject: 'v' }, campaign, authorityOf).allowed).toBe(false);
  });
});
