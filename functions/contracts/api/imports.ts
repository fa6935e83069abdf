import * as z from 'zod';
import { instant } from './common.js';

const importCounts = z.object({
  rows: z.number().int(),
  accepted: z.number().int(),
  created: z.number().int(),
  updated: z.number().int(),
  renewed: z.number().int(),
  unchanged: z.number().int(),
  rejected: z.number().int(),
  blank: z.number().int(),
});

/** `POST /v1/imports` (202): the import's id, and on AWS where to upload the file. */
export const importSubmittedContract = z.object({
  id: z.string(),
  resumed: z.boolean(),
  sameFileAs: z.string().optional(),
  upload: z.object({ url: z.string(), method: z.literal('PUT'), headers: z.record(z.string(), z.string()), expiresAt: instant }).optional(),
  status: z.string(),
});

/** `GET /v1/imports/{id}`: state, progress and counts; the rejected rows are at `errorsCsv`. */
export const importContract = z.object({
  id: z.string(),
  state: z.enum(['queued', 'checking', 'storing', 'done', 'failed']),
  fileName: z.string(),
  contentType: z.string(),
  bytes: z.number().int(),
  sha256: z.string(),
  format: z.string().nullable(),
  encoding: z.string().nullable(),
  sheet: z.string().nullable(),
  options: z.object({ allOrNothing: z.boolean(), encoding: z.string().optional(), sheet: z.string().optional() }),
  uploadedBy: z.object({ subject: z.string(), role: z.string(), authority: z.string().optional() }),
  createdAt: instant,
  updatedAt: instant,
  finishedAt: instant.nullable(),
  progress: z.object({
    phase: z.enum(['queued', 'checking', 'storing', 'done', 'failed']),
    rowsDone: z.number().int(),
    totalRows: z.number().int().nullable(),
    percent: z.number().int().min(0).max(100),
  }),
  counts: importCounts,
  failure: z.object({ code: z.string(), message: z.string() }).nullable(),
  sameFileAs: z.string().nullable(),
  errorsCsv: z.string(),
});

export type ImportAnswer = z.infer<typeof importContract>;
