import { Type } from '@sinclair/typebox';
import { defineRunbook, expr } from './dsl/types';

/** The alert's address as a CIDR: a bare IPv4 address becomes /32, a bare IPv6 one /128. */
const CIDR = expr(
  "$contains(params.sourceAddress, '/') ? params.sourceAddress : " +
    "params.sourceAddress & ($contains(params.sourceAddress, ':') ? '/128' : '/32')",
);

/**
 * A web attack from one address (a WAF rate rule, an application's own detection): block the address in the WAF IP set
 * the web ACL's block rule uses; when the WAF cannot take it (no such set, a limit), deny it in the subnet's network
 * ACL instead. SEV1 and SEV2 block at once; a lower severity waits for on-call's decision, since a wrong block turns
 * away real users. Releasing removes the block (the entry only, and only when this execution added it).
 */
export const webAttackBlockIp = defineRunbook({
  id: 'web-attack-block-ip',
  version: '1.0.0',
  title: 'Block a web attacker by IP',
  description:
    "Add the alert's source address to a WAFv2 IP block set (network ACL deny as fallback); approval below SEV2.",
  incidentType: 'web-attack',
  severity: 'SEV3',
  rollbackWindow: '7d',
  triggers: [
    {
      // A WAF or application alert that names the address and the block set in its labels.
      sources: ['generic', 'alertmanager'],
      alarmNames: ['*web-attack*', '*waf-block*', '*sqli*', '*credential-stuffing*'],
      params: {
        sourceAddress: expr('alert.labels.sourceIp'),
        ipSetName: expr('alert.labels.ipSetName'),
        ipSetId: expr('alert.labels.ipSetId'),
        subnetId: expr('alert.labels.subnetId'),
        severity: expr('incident.severity'),
        notifyTopicArn: expr('notify.topicArn'),
      },
    },
  ],
  params: Type.Object(
    {
      sourceAddress: Type.String({
        pattern: '^[0-9a-fA-F:.]+(/[0-9]{1,3})?$',
        description: 'The attacking address or CIDR',
      }),
      ipSetName: Type.String({
        minLength: 1,
        maxLength: 128,
        description: "The WAFv2 IP set of the web ACL's block rule",
      }),
      ipSetId: Type.String({ minLength: 1, maxLength: 36 }),
      scope: Type.Union([Type.Literal('REGIONAL'), Type.Literal('CLOUDFRONT')], { default: 'REGIONAL' }),
      subnetId: Type.Optional(
        Type.String({ pattern: '^subnet-[0-9a-f]+$', description: 'Whose network ACL gets the fallback deny' }),
      ),
      severity: Type.Union([Type.Literal('SEV1'), Type.Literal('SEV2'), Type.Literal('SEV3'), Type.Literal('SEV4')], {
        default: 'SEV3',
      }),
      notifyTopicArn: Type.String({ pattern: '^arn:aws[a-z-]*:sns:' }),
    },
    { additionalProperties: false },
  ),
  steps: [
    {
      id: 'approve-block',
      kind: 'approval',
      title: 'Block this address?',
      when: "params.severity in ['SEV3', 'SEV4']",
      instructions: 'A block turns away every request from the address, real users behind the same NAT included.',
      approvers: { roles: ['on-call', 'security-lead'], min: 1 },
      timeout: '30m',
      onTimeout: 'reject',
    },
    {
      id: 'block-waf',
      kind: 'action',
      title: 'Add the address to the WAF IP block set',
      action: 'wafv2.blockAddress',
      with: {
        ipSetName: expr('params.ipSetName'),
        ipSetId: expr('params.ipSetId'),
        scope: expr('params.scope'),
        address: expr('params.sourceAddress'),
      },
      // A failure here is the fallback's cue, not the end.
      continueOnError: true,
      rollback: {
        action: 'wafv2.unblockAddress',
        with: {
          ipSetName: expr('params.ipSetName'),
          ipSetId: expr('params.ipSetId'),
          scope: expr('params.scope'),
          address: expr('params.sourceAddress'),
          added: expr('steps.`block-waf`.output.added'),
        },
      },
    },
    {
      id: 'block-nacl',
      kind: 'action',
      title: "Fallback: deny the address in the subnet's network ACL",
      // Without a subnet the action refuses, so the execution fails: nothing blocked the address.
      when: "steps.`block-waf`.status = 'failed'",
      action: 'ec2.denyCidrInNetworkAcl',
      with: { subnetId: expr('params.subnetId'), cidr: CIDR },
      rollback: {
        action: 'ec2.removeNetworkAclEntry',
        with: {
          networkAclId: expr('steps.`block-nacl`.output.networkAclId'),
          ruleNumber: expr('steps.`block-nacl`.output.ruleNumber'),
          egress: expr('steps.`block-nacl`.output.egress'),
          cidr: expr('steps.`block-nacl`.output.cidr'),
          created: expr('steps.`block-nacl`.output.created'),
        },
      },
    },
    {
      id: 'notify-blocked',
      kind: 'action',
      title: 'Notify: address blocked',
      action: 'sns.publish',
      with: {
        topicArn: expr('params.notifyTopicArn'),
        subject: expr('"firebreak: blocked " & params.sourceAddress'),
        message: {
          event: 'address-blocked',
          address: expr('params.sourceAddress'),
          by: expr("steps.`block-waf`.status = 'succeeded' ? 'wafv2' : 'network-acl'"),
          ipSetArn: expr('steps.`block-waf`.output.ipSetArn'),
          networkAclId: expr('steps.`block-nacl`.output.networkAclId'),
        },
      },
      continueOnError: true,
    },
  ],
});
