import { describe, expect, it } from 'vitest';
import { DEFAULT_TEMPLATES, fillTemplate, PLACEHOLDERS, templatePlaceholders, type TemplateValues } from '../../functions/core/templates.js';

const VALUES: TemplateValues = Object.fromEntries(PLACEHOLDERS.map((name) => [name, `<${name}>`])) as TemplateValues;

describe('Function: fillTemplate', () => {
  it('replaces every named placeholder and leaves fixed text as it is', () => {
    // Act
    const text = fillTemplate('您的{typeName}（编号{number}）请{applyBy}办理{action}', VALUES);

    // Assess
    expect(text).toBe('您的<typeName>（编号<number>）请<applyBy>办理<action>');
  });

  it('refuses an unknown placeholder instead of sending its braces', () => {
    // Act & Assess
    expect(() => fillTemplate('您的{typName}', VALUES)).toThrow(/\{typName\}/);
  });
});

describe('Function: templatePlaceholders', () => {
  it('lists the placeholders a template uses, in order', () => {
    // Act & Assess
    expect(templatePlaceholders('{place}{action}{place}')).toEqual(['place', 'action', 'place']);
  });

  it('refuses a template carrying the signature brackets, which the sender adds in front', () => {
    // Act & Assess
    expect(() => templatePlaceholders('【兴国县行政审批局】{typeName}')).toThrow(/【】/);
  });
});

describe('Data: DEFAULT_TEMPLATES', () => {
  it('has a template for each stage, and a late variant for the stages that name a deadline', () => {
    // Assess
    expect(Object.keys(DEFAULT_TEMPLATES)).toEqual(['first', 'final', 'expired']);
    expect(DEFAULT_TEMPLATES.first.lateTemplate).not.toBeNull();
    expect(DEFAULT_TEMPLATES.final.lateTemplate).not.toBeNull();
    expect(DEFAULT_TEMPLATES.expired.lateTemplate).toBeNull();
  });

  it('keeps every default template free of logic: fixed text and known placeholders only', () => {
    // Act
    const all = Object.values(DEFAULT_TEMPLATES).flatMap((t) => [t.template, t.lateTemplate ?? '']);

    // Assess
    for (const template of all) {
      expect(() => templatePlaceholders(template)).not.toThrow();
      expect(template.replace(/\{[a-zA-Z]+\}/g, '')).not.toMatch(/[{}]/);
    }
  });
});
