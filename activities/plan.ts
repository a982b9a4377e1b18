/**
 * Dry runs: a mutating action makes its describe/get/list calls as usual and sends each mutating call through a
 * CallPlan, which makes the call, or in a dry run only records it. The output then carries `dryRun` and `calls`.
 */
import type { PlannedCall } from './schemas';

export class CallPlan {
  readonly calls: PlannedCall[] = [];
  constructor(readonly dryRun = false) {}

  /**
   * Makes a mutating call, or records it in a dry run (and resolves to undefined).
   *
   * @param service the AWS service, e.g. `ec2`
   * @param command the SDK command; its name and input are what a dry run reports
   * @param send makes the call and classifies its errors (usually `() => awsCall(what, () => client.send(command))`)
   */
  async call<T>(
    service: string,
    command: { input: unknown; constructor: { name: string } },
    send: () => Promise<T>,
  ): Promise<T | undefined> {
    if (!this.dryRun) return send();
    this.calls.push({ service, operation: command.constructor.name.replace(/Command$/, ''), input: command.input });
    return undefined;
  }

  /** The dry-run fields of an action's output: none for a real run. */
  fields(): { dryRun?: boolean; calls?: PlannedCall[] } {
    return this.dryRun ? { dryRun: true, calls: this.calls } : {};
  }
}
