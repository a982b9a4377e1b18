/**
 * Incidents for the history corpus: alerts delivered through the API's incident service (signal-with-start, one
 * incident per fingerprint), the runbook child they start, re-firings, redeliveries, the alarm back to OK, human
 * overrides, an incident that continues as new, a fingerprint that comes back after its incident closed. Each
 * incident (every run of it) and each runbook child it started is recorded once closed.
 */
import { randomUUID } from 'node:crypto';
import { ec2Compromise } from '../../runbooks/ec2-compromise';
import type { NormalisedAlert } from '../../alerts/alert';
import { fingerprint } from '../../alerts/fingerprint';
import type { RunbookDefinition } from '../../runbooks/dsl/types';
import type { IncidentService } from '../../api/incidents';
import { incidentStateQuery, type IncidentState } from '../../workflows/incident-messages';
import { approvalUpdate } from '../../workflows/messages';
import { archiveWorkflowId } from '../../workflows/archive';
import {
  alarm,
  closed,
  commander,
  executionState,
  incidentService,
  until,
  type Recorded,
  type Scenario,
  type ScenarioContext,
} from './context';
import { drill, withDeadline } from './runbook-scenarios';

/** An alarm on one instance whose name routes it to ec2-compromise (`*egress-spike*`). */
function egressAlarm(instanceId: string) {
  const alarmName = `${instanceId}-egress-spike`;
  return (state: 'ALARM' | 'OK', deliveryId = randomUUID()) =>
    alarm({ deliveryId, alarmName, state, dimensions: { InstanceId: instanceId } });
}

function incidentState(
  ctx: ScenarioContext,
  incidentId: string,
  predicate: (s: IncidentState) => boolean,
  what: string,
): Promise<IncidentState> {
  return until(`incident ${incidentId}: ${what}`, async () => {
    const s = await ctx.client.workflow.getHandle(incidentId).query(incidentStateQuery);
    if (!predicate(s)) throw new Error(`last seen: ${JSON.stringify(s.timeline.slice(-6))}`);
    return s;
  });
}

/** Delivers an alert as the API does and waits until the incident handled it: `want` is the outcome it must record. */
async function ingest(ctx: ScenarioContext, service: IncidentService, alert: NormalisedAlert, want: string) {
  const before = await deliveriesSeen(ctx, alert);
  const ack = await service.ingest(alert);
  if (ack.outcome !== 'accepted') throw new Error(`alert ${alert.deliveryId}: not accepted (${ack.outcome})`);
  const s = await incidentState(
    ctx,
    ack.incidentId!,
    (st) => st.alertCount + st.duplicateCount > before && st.lastDelivery?.deliveryId === alert.deliveryId,
    `alert ${alert.deliveryId} handled`,
  );
  if (s.lastDelivery?.outcome !== want)
    throw new Error(`alert ${alert.deliveryId}: expected ${want}, got ${s.lastDelivery?.outcome}`);
  const executionId = s.automation.kind === 'runbook' ? s.automation.executionId : undefined;
  return { incidentId: ack.incidentId, automation: { executionId } };
}

/** Alerts (and redeliveries) the alert's running incident has handled so far; 0 when none runs. */
async function deliveriesSeen(ctx: ScenarioContext, alert: NormalisedAlert): Promise<number> {
  try {
    const handle = ctx.client.workflow.getHandle(`incident-${fingerprint(alert)}`);
    if ((await handle.describe()).status.name !== 'RUNNING') return 0;
    const s = await handle.query(incidentStateQuery);
    return s.alertCount + s.duplicateCount;
  } catch {
    return 0;
  }
}

/** Records the incident and, when it started one, its runbook child (after both closed). */
async function recordBoth(
  ctx: ScenarioContext,
  name: string,
  incidentId: string,
  description: string,
  child?: { workflowId: string; description: string },
): Promise<Recorded[]> {
  const incident = ctx.client.workflow.getHandle(incidentId);
  await closed(incident);
  const out: Recorded[] = [{ scenario: name, workflowId: incidentId, description }];
  if (child) {
    await closed(ctx.client.workflow.getHandle(child.workflowId));
    out.push({ scenario: `${name}.runbook`, workflowId: child.workflowId, description: child.description });
  }
  out.push(await archived(ctx, name, incidentId));
  return out;
}

/** The evidence archive the incident's latest occurrence started as it closed, once it has written the bundle. */
async function archived(ctx: ScenarioContext, name: string, incidentId: string): Promise<Recorded> {
  const { occurrence } = (await ctx.client.workflow.getHandle(incidentId).result()) as IncidentState;
  const workflowId = archiveWorkflowId(incidentId, occurrence!);
  await closed(ctx.client.workflow.getHandle(workflowId));
  return {
    scenario: `${name}.archive`,
    workflowId,
    description: `the evidence archive of the incident's occurrence ${occurrence}, started as it closed`,
  };
}

/** ec2-compromise plus a verification step waiting for the alarm to go back to OK; a short rollback window. */
const verifying: RunbookDefinition = drill('verify-ok', {
  rollbackWindow: '3s',
  steps: [
    ...ec2Compromise.steps,
    {
      id: 'verify-alarm-ok',
      kind: 'wait',
      title: 'Wait for the alarm to go back to OK',
      until: "incident.alertState = 'resolved'",
      timeout: '2m',
      onTimeout: 'fail',
    },
  ],
});

export const incidentScenarios: Scenario[] = [
  {
    name: 'incident-runbook-resolved',
    async run(ctx) {
      const service = incidentService(ctx, [verifying]);
      const fire = egressAlarm(ctx.nextInstance());
      const first = fire('ALARM');
      const { incidentId, automation } = await ingest(ctx, service, first, 'opened');
      const child = ctx.client.workflow.getHandle(automation.executionId!);
      await executionState(child, (s) => s.status === 'waiting-approval', 'approval');
      await ingest(ctx, service, first, 'duplicate'); // the same delivery again (SNS/EventBridge redelivery)
      await ingest(ctx, service, fire('ALARM'), 'refired');
      await child.executeUpdate(approvalUpdate, {
        args: [{ stepId: 'approve-isolation', decision: 'approve', comment: 'isolate it', decidedBy: commander }],
      });
      await executionState(child, (s) => s.steps.some((st) => st.status === 'waiting'), 'verification step');
      await ingest(ctx, service, fire('OK'), 'resolved');
      return recordBoth(
        ctx,
        'incident-runbook-resolved',
        incidentId!,
        'alarm opens the incident, a redelivery and a re-firing arrive, the runbook is approved and isolates, the alarm goes back to OK: resolved and closed',
        {
          workflowId: automation.executionId!,
          description:
            'drill ec2-compromise with a verification wait step, run by the incident: approved, isolated, verified by the alarm going back to OK, 3s rollback window expires',
        },
      );
    },
  },
  {
    name: 'incident-flapping-rolled-back',
    async run(ctx) {
      const service = incidentService(ctx, [ec2Compromise]);
      const fire = egressAlarm(ctx.nextInstance());
      const { incidentId, automation } = await ingest(ctx, service, fire('ALARM'), 'opened');
      const child = ctx.client.workflow.getHandle(automation.executionId!);
      await executionState(child, (s) => s.status === 'waiting-approval', 'approval');
      await ingest(ctx, service, fire('OK'), 'resolved');
      await ingest(ctx, service, fire('ALARM'), 'reopened'); // flapping: the resolution is withdrawn
      await child.executeUpdate(approvalUpdate, {
        args: [{ stepId: 'approve-isolation', decision: 'reject', comment: 'flapping alarm', decidedBy: commander }],
      });
      await closed(child);
      await incidentState(
        ctx,
        incidentId!,
        (s) => s.automation.kind === 'runbook' && s.automation.status === 'rolled-back',
        'runbook rolled back',
      );
      await ingest(ctx, service, fire('OK'), 'resolved');
      return recordBoth(
        ctx,
        'incident-flapping-rolled-back',
        incidentId!,
        'alarm opens the incident, goes OK, fires again (resolution withdrawn); the runbook is rejected and rolled back; OK again: closed',
        {
          workflowId: automation.executionId!,
          description:
            'ec2-compromise run by the incident, told the alert was resolved, then rejected by the commander and rolled back',
        },
      );
    },
  },
  {
    name: 'incident-runbook-failed',
    async run(ctx) {
      const service = incidentService(ctx, [withDeadline('incident-deadline-fail', '1s', 'fail')]);
      const fire = egressAlarm(ctx.nextInstance());
      const { incidentId, automation } = await ingest(ctx, service, fire('ALARM'), 'opened');
      await closed(ctx.client.workflow.getHandle(automation.executionId!));
      await incidentState(
        ctx,
        incidentId!,
        (s) => s.automation.kind === 'runbook' && s.automation.status === 'failed',
        'runbook failed',
      );
      await service.resolve(incidentId!, 'handled by hand after the runbook failed', commander);
      return recordBoth(
        ctx,
        'incident-runbook-failed',
        incidentId!,
        'alarm opens the incident; its runbook fails (approval deadline, onTimeout=fail); a human resolves it: closed',
        {
          workflowId: automation.executionId!,
          description:
            'drill ec2-compromise run by the incident: approval deadline of 1s passes with onTimeout=fail, rolled back and failed',
        },
      );
    },
  },
  {
    name: 'incident-no-automation',
    async run(ctx) {
      const service = incidentService(ctx, [ec2Compromise]);
      const lb = `app/corpus-${ctx.nextInstance()}/50dc6c495c0c9188`;
      const fire = (state: 'ALARM' | 'OK') =>
        alarm({
          deliveryId: randomUUID(),
          alarmName: 'api-5xx-rate',
          state,
          namespace: 'AWS/ApplicationELB',
          metric: 'HTTPCode_Target_5XX_Count',
          dimensions: { LoadBalancer: lb },
        });
      const { incidentId } = await ingest(ctx, service, fire('ALARM'), 'opened');
      await service.setSeverity(incidentId!, 'SEV1', 'customer-facing outage', commander);
      await ingest(ctx, service, fire('OK'), 'resolved');
      return recordBoth(
        ctx,
        'incident-no-automation',
        incidentId!,
        'an alarm no runbook matches opens an incident without automation; a human raises the severity; the alarm goes back to OK: closed',
      );
    },
  },
  {
    name: 'incident-recurrence',
    async run(ctx) {
      const service = incidentService(ctx, [withDeadline('incident-recurrence', '1s', 'reject')]);
      const fire = egressAlarm(ctx.nextInstance());
      /** One occurrence: opened, its runbook rejected by its deadline and rolled back, the alarm OK: closed. */
      const occurrence = async () => {
        const { incidentId, automation } = await ingest(ctx, service, fire('ALARM'), 'opened');
        await closed(ctx.client.workflow.getHandle(automation.executionId!));
        await incidentState(
          ctx,
          incidentId!,
          (s) => s.automation.kind === 'runbook' && s.automation.status === 'rolled-back',
          'runbook rolled back',
        );
        await ingest(ctx, service, fire('OK'), 'resolved');
        await closed(ctx.client.workflow.getHandle(incidentId!));
        return { incidentId: incidentId!, executionId: automation.executionId! };
      };
      const archives: Recorded[] = [];
      const first = await occurrence();
      archives.push({
        ...(await archived(ctx, 'incident-recurrence', first.incidentId)),
        scenario: 'incident-recurrence.archive-1',
      });
      // The same fingerprint after the incident closed: a new run of the incident's workflow ID, a new runbook child.
      const second = await occurrence();
      archives.push({
        ...(await archived(ctx, 'incident-recurrence', first.incidentId)),
        scenario: 'incident-recurrence.archive-2',
      });
      if (second.incidentId !== first.incidentId || second.executionId === first.executionId)
        throw new Error(`expected a new occurrence of ${first.incidentId}, got ${JSON.stringify(second)}`);
      const runbook = (n: number) =>
        `drill ec2-compromise run by occurrence ${n} of the incident: approval deadline of 1s passes with onTimeout=reject, rolled back`;
      return [
        {
          scenario: 'incident-recurrence',
          workflowId: first.incidentId,
          description:
            'alarm opens the incident, its runbook is rolled back, the alarm goes OK: closed; the same alarm fires again: a new occurrence (a new run of the workflow ID) with a new runbook child, closed the same way',
        },
        { scenario: 'incident-recurrence.runbook-1', workflowId: first.executionId, description: runbook(1) },
        { scenario: 'incident-recurrence.runbook-2', workflowId: second.executionId, description: runbook(2) },
        ...archives,
      ];
    },
  },
  {
    name: 'incident-continue-as-new',
    async run(ctx) {
      // Three updates a run: the opening alert and two re-firings make the first run continue as new.
      const service = incidentService(ctx, [drill('continue-as-new', { rollbackWindow: '3s' })], { maxUpdates: 3 });
      const fire = egressAlarm(ctx.nextInstance());
      const { incidentId, automation } = await ingest(ctx, service, fire('ALARM'), 'opened');
      const child = ctx.client.workflow.getHandle(automation.executionId!);
      await executionState(child, (s) => s.status === 'waiting-approval', 'approval');
      await ingest(ctx, service, fire('ALARM'), 'refired');
      await ingest(ctx, service, fire('ALARM'), 'refired');
      await incidentState(ctx, incidentId!, (s) => (s.run ?? 1) >= 2, 'continued as new');
      await ingest(ctx, service, fire('ALARM'), 'refired');
      // Approved after the run that started it continued as new: the later run learns the outcome by reading it.
      await child.executeUpdate(approvalUpdate, {
        args: [{ stepId: 'approve-isolation', decision: 'approve', comment: 'isolate it', decidedBy: commander }],
      });
      await ingest(ctx, service, fire('OK'), 'resolved');
      return recordBoth(
        ctx,
        'incident-continue-as-new',
        incidentId!,
        'alarm opens the incident, two re-firings reach its 3-update bound: it continues as new; the runbook is approved, isolates and its 3s rollback window expires; the alarm goes OK: closed by the second run',
        {
          workflowId: automation.executionId!,
          description:
            'drill ec2-compromise run by an incident that continued as new while it waited for approval: approved, isolated, 3s rollback window expires',
        },
      );
    },
  },
];
