/**
 * How the workflow bundle is built, in one place: the worker, the test stack, replay, drills and the benches all bundle
 * the same way, so what CI replays and tests is what runs.
 */
import { bundleWorkflowCode, type Logger, type WorkflowBundleWithSourceMap } from '@temporalio/worker';

/** The workflows the worker registers (workflows/index.ts). */
export const WORKFLOWS_PATH = require.resolve('../workflows');

/**
 * Modules loaded once per worker thread and shared by every workflow in it, instead of once per workflow.
 * The reusable V8 context gives each workflow its own copy of every other module, so without this each new workflow
 * (and each one replayed after a cache eviction) built a fresh Ajv, compiled Ajv's meta-schema and the runbook's
 * parameter schema, and parsed its JSONata expressions again: a profile of the throughput bench put that at a quarter
 * of the workflow thread's CPU. These modules are pure: their only module state is a cache from schema or expression
 * source to its compiled form, which any execution may share (nothing per execution, nothing that reads the clock or
 * randomness at load). The SDK freezes their exports: every workflow test runs them that way (the test stack bundles
 * here), and test/worker/bundle.test.ts checks they are preloaded and import nothing with per-execution state.
 */
export const PRELOAD_MODULES = [
  require.resolve('../runbooks/dsl/params'),
  require.resolve('../runbooks/dsl/expressions'),
];

/** The bundler's options, for `Worker.create({ bundlerOptions })` and the replayer. */
export const BUNDLER_OPTIONS = { preloadModules: PRELOAD_MODULES };

/** A bundler logger that shows only warnings and errors (webpack's progress lines are noise in tests and tools). */
export const BUNDLE_LOGGER: Logger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message) => console.warn(message),
  error: (message) => console.error(message),
};

export function bundleWorkflows(
  opts: { workflowsPath?: string; logger?: Logger } = {},
): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({
    workflowsPath: opts.workflowsPath ?? WORKFLOWS_PATH,
    logger: opts.logger,
    ...BUNDLER_OPTIONS,
  });
}
