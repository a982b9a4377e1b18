/**
 * The running activity, for code that also runs outside one (AWS clients, error classification, scripts): the
 * context, and why it was cancelled. Its own module so the HTTP handler and the error classifier use it without
 * importing the client factory.
 */
import { Context } from '@temporalio/activity';

/**
 * The Temporal activity context when running inside an activity, else undefined (plain calls from tests or scripts).
 */
export function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/**
 * True when the workflow asked for the activity's cancellation; false for a cancellation by the worker's shutdown, a
 * timeout or a lost activity, after which Temporal retries the step (on another worker) and it must resume its work.
 */
export function cancellationRequestedByWorkflow(): boolean {
  return activityContext()?.cancellationDetails?.cancelRequested === true;
}
