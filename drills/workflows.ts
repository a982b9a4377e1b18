/** The drill runner's workflows: firebreak's own (a drill runs the real runbook workflow) and the scheduled drill. */
export * from '../workflows';
export { drillWorkflow } from './workflow';
