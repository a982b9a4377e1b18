// The workflows the worker registers (bundled for Temporal's sandbox).
export { runbookWorkflow } from './runbook';
export { incidentWorkflow } from './incident';
export { resourceWorkflow } from './resource';
export { planWorkflow } from './plan';
export { archiveWorkflow } from './archive';
