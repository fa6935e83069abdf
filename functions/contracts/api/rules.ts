import * as z from 'zod';
import { STAGE_ANCHORS } from '../../core/model.js';
import { day, instant } from './common.js';

/** A stage as the rules routes show it: an offset in `days` or `workingDays` from its anchor. */
export const stageContract = z.object({
  name: z.string(),
  from: z.enum(STAGE_ANCHORS),
  days: z.number().int().optional(),
  workingDays: z.number().int().optional(),
  template: z.string(),
  lateTemplate: z.string().optional(),
});

/** How far a rule's re-plan has come: `done` of `total` certificates read. */
export const ruleReplanContract = z.object({
  version: z.number().int(),
  state: z.enum(['running', 'done']),
  done: z.number().int(),
  total: z.number().int(),
  replanned: z.number().int(),
  cursor: z.string().optional(),
  startedAt: instant,
  finishedAt: instant.optional(),
});

/** An item of `GET /v1/rules`. */
export const ruleSummaryContract = z.object({
  type: z.string(),
  version: z.number().int(),
  enabled: z.boolean(),
  stages: z.number().int(),
  changedAt: instant.nullable(),
  changedBy: z.string().nullable(),
});

export const ruleListContract = z.object({ rules: z.array(ruleSummaryContract) });

/** `GET /v1/rules/{type}`: version 0 is the default, never changed. */
export const ruleContract = z.object({
  type: z.string(),
  version: z.number().int(),
  enabled: z.boolean(),
  stages: z.array(stageContract),
  changedBy: z.string().nullable(),
  changedAt: instant.nullable(),
  comment: z.string(),
  replan: ruleReplanContract.optional(),
});

/** `PUT /v1/rules/{type}` and `POST /v1/rules/{type}/restore`: the new version and its re-plan. */
export const ruleChangeContract = z.object({
  type: z.string(),
  version: z.number().int(),
  enabled: z.boolean(),
  stages: z.array(stageContract),
  changedBy: z.string(),
  changedAt: instant,
  comment: z.string(),
  diff: z.array(z.string()),
  replan: ruleReplanContract,
});

const dayCount = z.object({ date: day, count: z.number().int() });

/** `POST /v1/rules/{type}/preview`: messages per day now and with the draft, and samples; nothing is stored. */
export const rulePreviewContract = z.object({
  type: z.string(),
  from: day,
  to: day,
  current: z.array(dayCount),
  draft: z.array(dayCount),
  samples: z.array(z.object({ stage: z.string(), to: z.string(), body: z.string(), segments: z.number().int() })),
  affected: z.number().int(),
});

/** `GET /v1/rules/{type}/history`, newest first. */
export const ruleHistoryContract = z.object({
  type: z.string(),
  versions: z.array(
    z.object({
      version: z.number().int(),
      changedBy: z.string().nullable(),
      changedAt: instant.nullable(),
      comment: z.string(),
      diff: z.array(z.string()),
      enabled: z.boolean(),
      stages: z.array(stageContract),
    }),
  ),
});

/** `GET` and `PUT /v1/rules/merged-template`: the texts of one SMS carrying several reminders. */
export const mergedTemplateContract = z.object({
  template: z.string(),
  itemTemplate: z.string(),
  version: z.number().int(),
  changedBy: z.string().nullable(),
  changedAt: instant.nullable(),
  comment: z.string().nullable(),
});

/** `POST /v1/rules/merged-template/preview`. */
export const mergedTemplatePreviewContract = z.object({
  samples: z.array(z.object({ count: z.number().int(), body: z.string(), segments: z.number().int(), merged: z.boolean() })),
});
