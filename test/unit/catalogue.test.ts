import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  authoritiesFileSchema,
  Catalogue,
  catalogueFileSchema,
  Townships,
  townshipsFileSchema,
  type CatalogueEntry,
} from '../../functions/core/catalogue.js';
import { ReferenceDataError } from '../../functions/core/errors.js';

function readData(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`../../data/${name}`, import.meta.url), 'utf8'));
}

const catalogueFile = catalogueFileSchema.parse(readData('catalogue.json'));
const authoritiesFile = authoritiesFileSchema.parse(readData('authorities.json'));
const townshipsFile = townshipsFileSchema.parse(readData('townships.json'));

function entry(code: string): CatalogueEntry {
  const found = catalogueFile.types.find((t) => t.code === code);
  if (found === undefined) throw new Error(`no ${code} in data/catalogue.json`);
  return found;
}

describe('Data: catalogue.json', () => {
  it('holds exactly 42 certificate types with unique codes', () => {
    // Act
    const codes = catalogueFile.types.map((t) => t.code);

    // Assess
    expect(codes).toHaveLength(42);
    expect(new Set(codes).size).toBe(42);
  });

  it('says in Chinese and English why every low-confidence type is uncertain', () => {
    // Prepare
    const low = catalogueFile.types.filter((t) => t.confidence === 'low');

    // Act
    const unexplained = low.filter((t) => !/低可信度/.test(t.confidenceNote ?? '') || !/Low confidence/.test(t.confidenceNote ?? ''));

    // Assess
    expect(low.map((t) => t.code)).toContain('gas_business_license');
    expect(unexplained).toEqual([]);
  });

  it('names only authorities that authorities.json defines, and authorities.json defines no unused one', () => {
    // Prepare
    const defined = new Set(authoritiesFile.authorities.map((a) => a.code));
    const used = new Set(catalogueFile.types.map((t) => t.authority));

    // Act
    const undefinedCodes = [...used].filter((code) => !defined.has(code));
    const unusedCodes = [...defined].filter((code) => !used.has(code));

    // Assess
    expect(undefinedCodes).toEqual([]);
    expect(unusedCodes).toEqual([]);
  });

  it('gives the county-level bureau as each authority name', () => {
    // Act
    const marketRegulation = authoritiesFile.authorities.find((a) => a.code === 'market_regulation');

    // Assess
    expect(marketRegulation).toEqual({
      code: 'market_regulation',
      nameZh: '兴国县市场监督管理局',
      nameEn: 'Xingguo County Administration for Market Regulation',
    });
  });

  it('keeps a "between" renewal window in working days as the reference states it', () => {
    // Act
    const window = entry('food_business_license').renewalWindow;

    // Assess
    expect(window).toEqual({ from: { workingDays: 90 }, to: { workingDays: 15 }, semantics: 'between' });
  });

  it('keeps what a renewal window applies to when it is not the certificate itself', () => {
    // Act
    const window = entry('special_equipment_use_registration').renewalWindow;

    // Assess
    expect(window).toEqual({
      months: 1,
      semantics: 'atLeastBefore',
      appliesTo: 'request periodic inspection from the inspection body',
    });
  });

  it('marks the construction permit window as running to a start deadline, not an expiry', () => {
    // Act
    const type = entry('construction_permit');

    // Assess
    expect(type.renewalWindow).toMatchObject({ beforeDeadline: true, semantics: 'atLeastBefore' });
    expect(type.validity).toBeNull();
    expect(type.keyDate).toMatch(/3 months/);
  });

  it('marks only farm machinery as seasonal', () => {
    // Act
    const seasonal = catalogueFile.types.filter((t) => t.seasonal).map((t) => t.category);

    // Assess
    expect(new Set(seasonal)).toEqual(new Set(['farm-machinery']));
  });
});

describe('Data: catalogue.json (what SMS texts say)', () => {
  it('gives every type a short SMS name of at most 12 characters without a parenthetical label', () => {
    // Act
    const tooLong = catalogueFile.types.filter((t) => Array.from(t.smsName).length > 12 || /[（）()]/u.test(t.smsName));

    // Assess
    expect(tooLong.map((t) => t.smsName)).toEqual([]);
    expect(entry('construction_safety_manager_cert').smsName).toBe('安管人员考核合格证');
    expect(entry('medical_institution_license').smsName).toBe('医疗机构执业许可证');
    expect(entry('special_equipment_use_registration').smsName).toBe('特种设备定期检验');
  });

  it('asks for an inspection of a farm machine at the 农机安全监理站, not a renewal at the service centre', () => {
    // Act
    const inspection = entry('farm_machine_annual_inspection');

    // Assess
    expect(inspection.renewalAction).toBe('年检');
    expect(inspection.renewalPlace).toEqual({ at: 'office', name: '兴国县农机安全监理站' });
    expect(entry('medical_institution_license').renewalAction).toBe('校验');
    expect(entry('special_equipment_use_registration').renewalAction).toBe('定期检验');
  });

  it('plans no reminders for the types that have no expiry, and only for them', () => {
    // Act
    const withoutReminders = catalogueFile.types.filter((t) => !t.reminders).map((t) => t.code);

    // Assess
    expect(withoutReminders.sort()).toEqual(['farm_machine_registration', 'hr_service_license', 'land_use_planning_permit']);
    for (const code of withoutReminders) expect(entry(code).validity).toBeNull();
  });

  it('cites a basis with a confidence for every fact added for the texts', () => {
    // Act
    const bases = catalogueFile.types.flatMap((t) => Object.values(t.basis));

    // Assess
    expect(bases).toHaveLength(42 * 4);
    for (const basis of bases) expect(basis.source.length).toBeGreaterThan(10);
    expect(entry('special_equipment_use_registration').basis.renewalPlace.confidence).toBe('low');
  });
});

describe('Schema: catalogueFileSchema', () => {
  it('rejects a low-confidence type without a confidenceNote', () => {
    // Prepare
    const { confidenceNote: _dropped, ...withoutNote } = entry('gas_business_license');
    const file = { ...catalogueFile, types: [withoutNote] };

    // Act
    const result = catalogueFileSchema.safeParse(file);

    // Assess
    expect(result.error?.issues).toEqual([expect.objectContaining({ path: ['types', 0, 'confidenceNote'] })]);
  });

  it('rejects a confidence higher than the weaker of its details', () => {
    // Prepare
    const file = { ...catalogueFile, types: [{ ...entry('food_business_license'), confidence: 'high' }] };

    // Act
    const result = catalogueFileSchema.safeParse(file);

    // Assess
    expect(result.error?.issues).toEqual([
      expect.objectContaining({ path: ['types', 0, 'confidence'], message: expect.stringContaining('"medium"') }),
    ]);
  });

  it('rejects two types with the same code', () => {
    // Prepare
    const first = entry('food_business_license');
    const file = { ...catalogueFile, types: [first, { ...first, nameZh: '另一个名称' }] };

    // Act
    const result = catalogueFileSchema.safeParse(file);

    // Assess
    expect(result.error?.issues).toEqual([
      expect.objectContaining({ path: ['types', 1, 'code'], message: '"food_business_license" is already used by types[0]' }),
    ]);
  });

  it('rejects an SMS name over 12 characters or with a parenthetical label, an unknown verb and a type with reminders but no verb', () => {
    // Prepare
    const food = entry('food_business_license');
    const file = {
      ...catalogueFile,
      types: [
        { ...food, smsName: '食品经营许可证（仅销售预包装食品）' },
        { ...entry('pesticide_business_license'), renewalAction: '办理' },
        { ...entry('drug_retail_license'), renewalAction: null },
      ],
    };

    // Act
    const result = catalogueFileSchema.safeParse(file);

    // Assess
    expect(result.error?.issues.map((i) => i.path.join('.'))).toEqual(['types.0.smsName', 'types.0.smsName', 'types.1.renewalAction', 'types.2.renewalAction']);
  });

  it('rejects an office name that could not go into an SMS', () => {
    // Prepare
    const file = { ...catalogueFile, types: [{ ...entry('tobacco_retail_license'), renewalPlace: { at: 'office', name: '【烟草局】 www.x.cn' } }] };

    // Act
    const result = catalogueFileSchema.safeParse(file);

    // Assess
    expect(result.error?.issues).toEqual([expect.objectContaining({ path: ['types', 0, 'renewalPlace', 'name'] })]);
  });

  it('rejects a renewal window in an unknown unit', () => {
    // Prepare
    const file = { ...catalogueFile, types: [{ ...entry('food_business_license'), renewalWindow: { weeks: 2, semantics: 'withinBefore' } }] };

    // Act
    const result = catalogueFileSchema.safeParse(file);

    // Assess
    expect(result.success).toBe(false);
  });
});

describe('Class: Catalogue', () => {
  const catalogue = new Catalogue(catalogueFile.types, catalogueFile.version);

  describe('Method: get', () => {
    it('finds a type by its code', () => {
      // Act
      const type = catalogue.get('tobacco_retail_license');

      // Assess
      expect(type?.nameZh).toBe('烟草专卖零售许可证');
      expect(type?.authority).toBe('tobacco');
    });

    it('returns undefined for an unknown code', () => {
      // Act & Assess
      expect(catalogue.get('dog_licence')).toBeUndefined();
    });
  });

  describe('Method: all', () => {
    it('lists every type in file order', () => {
      // Act
      const all = catalogue.all();

      // Assess
      expect(all).toHaveLength(42);
      expect(all[0]?.code).toBe('land_presite_opinion');
    });
  });

  describe('Method: resolve', () => {
    it('accepts the code', () => {
      // Act & Assess
      expect(catalogue.resolve('food_business_license')?.code).toBe('food_business_license');
    });

    it('accepts the exact Chinese name, ignoring surrounding spaces including full-width ones', () => {
      // Act
      const type = catalogue.resolve('\u3000食品经营许可证 ');

      // Assess
      expect(type?.code).toBe('food_business_license');
    });

    it('does not guess from a partial name', () => {
      // Act & Assess
      expect(catalogue.resolve('食品经营')).toBeUndefined();
    });
  });

  describe('Constructor', () => {
    it('rejects two types with the same code', () => {
      // Prepare
      const type = entry('food_business_license');

      // Act
      const act = (): unknown => new Catalogue([type, { ...type, nameZh: '另一个名称' }]);

      // Assess
      expect(act).toThrow(ReferenceDataError);
    });
  });
});

describe('Data: townships.json', () => {
  it('lists the 25 townships, 9 towns and 16 townships, and keeps the industrial park out of them', () => {
    // Act
    const kinds = townshipsFile.townships.map((t) => t.kind);

    // Assess
    expect(kinds.filter((k) => k === 'town')).toHaveLength(9);
    expect(kinds.filter((k) => k === 'township')).toHaveLength(16);
    expect(townshipsFile.townships.map((t) => t.code)).not.toContain('360732400');
    expect(townshipsFile.nonTownshipUnits).toEqual([expect.objectContaining({ code: '360732400', nameZh: '兴国县工业园' })]);
  });

  it('cites its sources and records the known corrections', () => {
    // Assess
    expect(townshipsFile.sources.join(' ')).toMatch(/National Bureau of Statistics 2023/);
    expect(townshipsFile.corrections.join(' ')).toMatch(/莲塘镇 is NOT a Xingguo township/);
  });
});

describe('Class: Townships', () => {
  const townships = new Townships(townshipsFile.townships);

  describe('Method: all', () => {
    it('lists all 25 townships', () => {
      // Act & Assess
      expect(townships.all()).toHaveLength(25);
    });
  });

  describe('Method: resolve', () => {
    it.each([
      ['its NBS code', '360732102'],
      ['its official name', '古龙冈镇'],
      ['the 岗 spelling used by local press', '古龙岗镇'],
      ['its name before it became a town', '古龙冈乡'],
      ['the 岗 spelling of its former name', '古龙岗乡'],
      ['the short name', '古龙岗'],
      ['its slug in any case', 'GuLongGang'],
      ['its English name', 'Gulonggang Town'],
      ['its pinyin, tone marks or not', 'gu long gang zhen'],
      ['a name padded with full-width spaces', '\u3000古龙冈镇\u3000'],
    ])('finds 古龙冈镇 by %s (%j)', (_how, input) => {
      // Act
      const township = townships.resolve(input);

      // Assess
      expect(township?.code).toBe('360732102');
    });

    it('finds 潋江镇, the county seat, by its short name', () => {
      // Act & Assess
      expect(townships.resolve('潋江')?.code).toBe('360732100');
    });

    it('finds 永丰镇 and 城岗镇 by their former 乡 names', () => {
      // Act & Assess
      expect(townships.resolve('永丰乡')?.code).toBe('360732108');
      expect(townships.resolve('城岗乡')?.code).toBe('360732107');
    });

    it('finds 长冈乡 under both spellings', () => {
      // Act & Assess
      expect(townships.resolve('长冈乡')?.code).toBe('360732217');
      expect(townships.resolve('长岗乡')?.code).toBe('360732217');
    });

    it('does not find 莲塘镇, which is in 南昌县, nor the industrial park', () => {
      // Act & Assess
      expect(townships.resolve('莲塘镇')).toBeUndefined();
      expect(townships.resolve('兴国县工业园')).toBeUndefined();
      expect(townships.resolve('360732400')).toBeUndefined();
    });
  });

  describe('Constructor', () => {
    it('rejects a name that would point at two townships', () => {
      // Prepare
      const [first, second] = townshipsFile.townships;
      if (first === undefined || second === undefined) throw new Error('fixture needs two townships');

      // Act
      const act = (): unknown => new Townships([first, { ...second, aliases: ['潋江'] }]);

      // Assess
      expect(act).toThrow(/"潋江" of 360732101 also names 360732100/);
    });
  });
});
