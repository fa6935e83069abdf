import { describe, expect, it } from 'vitest';
import { dynamoDbHeapFromEnvironment, settingsFromEnvironment, SettingsError } from '../../functions/app/settings.js';

describe('Function: settingsFromEnvironment', () => {
  it('uses the bureau defaults when nothing is set', () => {
    // Act
    const settings = settingsFromEnvironment({});

    // Assess
    expect(settings).toMatchObject({
      signature: '【兴国县行政审批局】',
      sendWindow: { start: '09:00', end: '20:00' },
      stagePolicy: { firstDaysBeforeDeadline: 30, finalDaysBeforeDeadline: 7, expiredDaysAfterExpiry: 1 },
    });
  });

  it('reads the send window, signature and SMS rate from the environment', () => {
    // Act
    const settings = settingsFromEnvironment({
      CERTALARM_SEND_WINDOW: '08:30-19:00',
      CERTALARM_SIGNATURE: '【兴国县政务服务中心】',
      CERTALARM_SMS_RATE: '5',
    });

    // Assess
    expect(settings.sendWindow).toEqual({ start: '08:30', end: '19:00' });
    expect(settings.signature).toBe('【兴国县政务服务中心】');
    expect(settings.smsRate).toBe(5);
  });

  it('bounds what an import file may inflate and hold, by default as Excel bounds a sheet', () => {
    // Act
    const defaults = settingsFromEnvironment({}).importLimits;
    const lowered = settingsFromEnvironment({ CERTALARM_IMPORT_MAX_PART_BYTES: '1048576', CERTALARM_IMPORT_MAX_COLUMNS: '100' }).importLimits;

    // Assess
    expect(defaults).toMatchObject({ maxCellChars: 32_767, maxColumns: 16_384, maxInflationRatio: 100, maxInflatedBytes: 2 * 1024 ** 3 });
    expect(lowered).toMatchObject({ maxPartBytes: 1_048_576, maxColumns: 100, maxCellChars: 32_767 });
  });

  it('names the variable and the fix when a value is wrong', () => {
    // Act
    const attempt = () => settingsFromEnvironment({ CERTALARM_SEND_WINDOW: '20:00-09:00', CERTALARM_SIGNATURE: '兴国' });

    // Assess
    expect(attempt).toThrow(SettingsError);
    expect(attempt).toThrow(/CERTALARM_SEND_WINDOW: the window must end after it starts/);
    expect(attempt).toThrow(/CERTALARM_SIGNATURE: a signature is 2–16 characters in full-width brackets/);
  });

  it('reads an optional help phone and leaves it out when unset', () => {
    // Act
    const set = settingsFromEnvironment({ CERTALARM_HELP_PHONE: '0797-5321234' });
    const unset = settingsFromEnvironment({});

    // Assess
    expect(set.helpPhone).toBe('0797-5321234');
    expect(unset.helpPhone).toBeUndefined();
  });

  it('refuses a help phone that is not a number to call, and a service-centre or county name that could not go into an SMS', () => {
    // Act
    const attempt = () =>
      settingsFromEnvironment({ CERTALARM_HELP_PHONE: 'call 5321234', CERTALARM_RENEWAL_PLACE: '【政务服务中心】', CERTALARM_COUNTY: '兴国县 http://x.cn' });

    // Assess
    expect(attempt).toThrow(/CERTALARM_HELP_PHONE: use a landline with its area code \(0797-5321234\)/);
    expect(attempt).toThrow(/CERTALARM_RENEWAL_PLACE: the service centre's name contains 【】/);
    expect(attempt).toThrow(/CERTALARM_COUNTY: the county name contains a web address/);
  });
});

describe('Function: dynamoDbHeapFromEnvironment', () => {
  it("caps DynamoDB Local's heap at 128 MiB when nothing is set", () => {
    // Act
    const heap = dynamoDbHeapFromEnvironment({});

    // Assess
    expect(heap).toBe(128);
  });

  it('reads the cap from CERTALARM_DYNAMODB_HEAP_MB, and 0 as no cap at all', () => {
    // Act
    const raised = dynamoDbHeapFromEnvironment({ CERTALARM_DYNAMODB_HEAP_MB: '512' });
    const uncapped = dynamoDbHeapFromEnvironment({ CERTALARM_DYNAMODB_HEAP_MB: '0' });

    // Assess
    expect(raised).toBe(512);
    expect(uncapped).toBeUndefined();
  });

  it('names the variable and the accepted range when the value cannot run DynamoDB Local', () => {
    // Act
    const tooSmall = () => dynamoDbHeapFromEnvironment({ CERTALARM_DYNAMODB_HEAP_MB: '16' });
    const notANumber = () => dynamoDbHeapFromEnvironment({ CERTALARM_DYNAMODB_HEAP_MB: '1g' });

    // Assess
    expect(tooSmall).toThrow(SettingsError);
    expect(tooSmall).toThrow(/CERTALARM_DYNAMODB_HEAP_MB: .*32 to 65536, or 0/);
    expect(notANumber).toThrow(/CERTALARM_DYNAMODB_HEAP_MB/);
  });
});
