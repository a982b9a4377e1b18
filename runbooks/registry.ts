/**
 * The runbook registry: validates definitions at load, pins each to its digest, and finds them by ID.
 */
import { digestOf, toPlain } from './dsl/digest';
import type { LoadedRunbook, RunbookDefinition } from './dsl/types';
import { RunbookValidationError, validateRunbook, type ValidationIssue } from './dsl/validate';

export class RunbookRegistry {
  private readonly byId = new Map<string, LoadedRunbook>();

  /** Validates every definition; throws RunbookValidationError listing all problems of all runbooks. */
  constructor(definitions: readonly RunbookDefinition<any>[]) {
    const issues: ValidationIssue[] = [];
    for (const def of definitions) {
      const found = validateRunbook(def);
      if (this.byId.has(def.id)) {
        found.push({
          runbookId: def.id,
          path: 'id',
          code: 'DUPLICATE_RUNBOOK_ID',
          message: `runbook id "${def.id}" is used twice`,
        });
      }
      issues.push(...found);
      const definition = toPlain(def) as RunbookDefinition;
      this.byId.set(def.id, { definition, digest: digestOf(definition) });
    }
    if (issues.length > 0) throw new RunbookValidationError(issues);
  }

  get(id: string): LoadedRunbook | undefined {
    return this.byId.get(id);
  }

  list(): LoadedRunbook[] {
    return [...this.byId.values()];
  }
}
