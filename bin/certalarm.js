#!/usr/bin/env node
// The published entry point: runs the TypeScript CLI through tsx, a declared dependency.
import { register } from "tsx/esm/api";

register();
await import("./certalarm.ts");
