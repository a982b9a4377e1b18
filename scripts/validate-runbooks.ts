/**
 * `npm run runbooks:validate`: loads every runbook through the registry; prints each with its digest, or every
 * problem found, and exits non-zero on any error.
 */
import { runbooks } from '../runbooks';
import { RunbookValidationError } from '../runbooks/dsl/validate';
import { RunbookRegistry } from '../runbooks/registry';

try {
  const registry = new RunbookRegistry(runbooks);
  for (const rb of registry.list()) {
    console.log(`ok  ${rb.definition.id}@${rb.definition.version}  ${rb.definition.steps.length} steps  ${rb.digest}`);
  }
} catch (err) {
  if (err instanceof RunbookValidationError) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}
