/**
 * Reminder rules as the store holds them. A type an operator never changed runs the default rule
 * (version 0), which is never stored; a change lives in the store, so it takes effect in every
 * process within the cache's lifetime, without a redeploy.
 */
import type { StagePolicy } from '../../core/model.js';
import type { Clock, RuleSource, RuleStore } from '../../core/ports.js';
import { defaultRule, type ReminderRule } from '../../core/rules.js';

/** How long a process plans and sends with the rules it read before reading the store again. */
export const RULE_CACHE_MS = 60_000;

/** A RuleSource over the store with a short cache: one read of every changed rule, shared by concurrent callers. */
export class StoredRuleSource implements RuleSource {
  #cached: { rules: Map<string, ReminderRule>; readAtMs: number } | undefined;
  #reading: Promise<Map<string, ReminderRule>> | undefined;

  constructor(
    private readonly deps: { rules: RuleStore; clock: Clock; policy: StagePolicy },
    private readonly ttlMs: number = RULE_CACHE_MS,
  ) {}

  async ruleFor(type: string): Promise<ReminderRule> {
    const rules = await this.all();
    return rules.get(type) ?? defaultRule(type, this.deps.policy);
  }

  async storedRules(): Promise<ReadonlyMap<string, ReminderRule>> {
    return this.all();
  }

  invalidate(): void {
    this.#cached = undefined;
  }

  private async all(): Promise<Map<string, ReminderRule>> {
    const nowMs = this.deps.clock.now().toMillis();
    if (this.#cached !== undefined && nowMs - this.#cached.readAtMs < this.ttlMs && nowMs >= this.#cached.readAtMs) return this.#cached.rules;
    this.#reading ??= this.deps.rules
      .listRules()
      .then((list) => {
        const rules = new Map(list.map((rule) => [rule.type, rule]));
        this.#cached = { rules, readAtMs: nowMs };
        return rules;
      })
      .finally(() => (this.#reading = undefined));
    return this.#reading;
  }
}

/** The rules where no store keeps them (unit tests, benchmarks): every type runs the default. */
export function defaultRuleSource(policy: StagePolicy): RuleSource {
  return { ruleFor: async (type) => defaultRule(type, policy), storedRules: async () => new Map(), invalidate: () => undefined };
}
