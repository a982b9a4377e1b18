/**
 * The AWS actions the worker's catalogue calls, read from the code: every SDK command class that activities/*.ts
 * imports (`DescribeInstancesCommand` from client-ec2 → `ec2:DescribeInstances`), plus the actions AWS checks besides
 * the call itself. docs/iam-worker-policy.json must list exactly these (test/scripts/iam-policy.test.ts).
 *
 * CLI: `tsx scripts/iam-actions.ts` prints them, one a line.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const ROOT = path.resolve(__dirname, '..');

/** SDK client package → IAM service prefix. */
export const SERVICE_PREFIX: Record<string, string> = {
  '@aws-sdk/client-ec2': 'ec2',
  '@aws-sdk/client-auto-scaling': 'autoscaling',
  '@aws-sdk/client-cloudwatch': 'cloudwatch',
  '@aws-sdk/client-elastic-load-balancing-v2': 'elasticloadbalancing',
  '@aws-sdk/client-sns': 'sns',
  '@aws-sdk/client-sqs': 'sqs',
  '@aws-sdk/client-ssm': 'ssm',
  '@aws-sdk/client-sts': 'sts',
  '@aws-sdk/client-wafv2': 'wafv2',
};

/** Calls that AWS authorises with a second action too: handing an instance a role passes that role. */
export const IMPLIED: Record<string, string[]> = {
  'ec2:AssociateIamInstanceProfile': ['iam:PassRole'],
  'ec2:ReplaceIamInstanceProfileAssociation': ['iam:PassRole'],
};

export function catalogueActions(dir = path.join(ROOT, 'activities')): string[] {
  const actions = new Set<string>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const source = ts.createSourceFile(file, readFileSync(path.join(dir, file), 'utf8'), ts.ScriptTarget.Latest);
    for (const node of source.statements) {
      if (!ts.isImportDeclaration(node) || !ts.isStringLiteral(node.moduleSpecifier)) continue;
      const pkg = node.moduleSpecifier.text;
      if (!pkg.startsWith('@aws-sdk/client-')) continue;
      const prefix = SERVICE_PREFIX[pkg];
      if (!prefix) throw new Error(`${file}: no IAM service prefix known for ${pkg} (add it to SERVICE_PREFIX)`);
      const clause = node.importClause;
      if (!clause || clause.isTypeOnly || !clause.namedBindings || !ts.isNamedImports(clause.namedBindings)) continue;
      for (const el of clause.namedBindings.elements) {
        const name = (el.propertyName ?? el.name).text;
        if (el.isTypeOnly || !/^[A-Z]\w*Command$/.test(name)) continue;
        const action = `${prefix}:${name.slice(0, -'Command'.length)}`;
        actions.add(action);
        for (const extra of IMPLIED[action] ?? []) actions.add(extra);
      }
    }
  }
  return [...actions].sort();
}

if (require.main === module) process.stdout.write(`${catalogueActions().join('\n')}\n`);
