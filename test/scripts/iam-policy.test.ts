/**
 * docs/iam-worker-policy.json lists exactly the AWS actions the catalogue calls, derived from the SDK command classes
 * that activities/*.ts import (scripts/iam-actions.ts): a new call without a policy line, or a line no code needs,
 * fails here.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { catalogueActions } from '../../scripts/iam-actions';
import { ROOT } from '../../scripts/stack';

interface Statement {
  Sid: string;
  Effect: string;
  Action: string[];
  Resource: string | string[];
  Condition?: unknown;
}
const policy = JSON.parse(readFileSync(path.join(ROOT, 'docs', 'iam-worker-policy.json'), 'utf8')) as {
  Version: string;
  Statement: Statement[];
};

it('allows exactly the actions the catalogue calls, each once, and nothing denied or wildcarded', () => {
  const listed = policy.Statement.flatMap((s) => s.Action);
  expect(policy.Version).toBe('2012-10-17');
  expect(policy.Statement.every((s) => s.Effect === 'Allow')).toBe(true);
  expect(listed.filter((a) => a.includes('*'))).toEqual([]);
  expect(listed.length).toBe(new Set(listed).size);
  expect([...listed].sort()).toEqual(catalogueActions());
});

it('narrows AssumeRole to the responder role and PassRole to EC2', () => {
  const by = (action: string) => policy.Statement.find((s) => s.Action.includes(action))!;
  expect(by('sts:AssumeRole').Resource).toBe('arn:aws:iam::*:role/firebreak-responder');
  expect(by('sts:AssumeRole').Action).toEqual(['sts:AssumeRole']);
  expect(by('iam:PassRole').Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } });
});

it('reads commands from imports (aliases, type-only imports and unknown clients handled)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'iam-'));
  writeFileSync(
    path.join(dir, 'a.ts'),
    [
      "import { DescribeInstancesCommand as Describe, EC2Client, type Instance } from '@aws-sdk/client-ec2';",
      "import type { PublishCommand } from '@aws-sdk/client-sns';",
      "import { AssociateIamInstanceProfileCommand } from '@aws-sdk/client-ec2';",
    ].join('\n'),
  );
  expect(catalogueActions(dir)).toEqual(['ec2:AssociateIamInstanceProfile', 'ec2:DescribeInstances', 'iam:PassRole']);
  writeFileSync(path.join(dir, 'b.ts'), "import { GetItemCommand } from '@aws-sdk/client-dynamodb';\n");
  expect(() => catalogueActions(dir)).toThrow(/client-dynamodb/);
});
