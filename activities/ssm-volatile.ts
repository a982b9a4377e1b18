/**
 * Volatile data through SSM Run Command: what is lost when the instance stops (process list, network connections,
 * logged-in users), collected before anything else changes it and kept in the execution's evidence with its SHA-256.
 * One command per artefact, so that a large process list cannot truncate the others (SSM keeps 24,000 characters).
 */
import type { RunCommandFn } from './ssm';
import { MAX_STDOUT, sha256 } from './ssm-common';
import type { ActionOutput, ActivityInput } from './schemas';

type Platform = 'linux' | 'windows';

/** What is collected, per platform: artefact name → shell commands. */
export const VOLATILE_COMMANDS: Record<Platform, { name: string; commands: string[] }[]> = {
  linux: [
    { name: 'processes', commands: ['ps auxww --forest 2>/dev/null || ps aux'] },
    { name: 'network-connections', commands: ['ss -tunap 2>/dev/null || netstat -tunap 2>/dev/null'] },
    { name: 'logged-in-users', commands: ['who -a 2>/dev/null; echo; last -n 50 2>/dev/null || true'] },
  ],
  windows: [
    { name: 'processes', commands: ['Get-Process -IncludeUserName | Format-Table -AutoSize | Out-String -Width 4096'] },
    {
      name: 'network-connections',
      commands: ['Get-NetTCPConnection | Format-Table -AutoSize | Out-String -Width 4096; netstat -ano'],
    },
    { name: 'logged-in-users', commands: ['query user 2>&1 | Out-String'] },
  ],
};

const DOCUMENT: Record<Platform, string> = { linux: 'AWS-RunShellScript', windows: 'AWS-RunPowerShellScript' };

type VolatileActivities = {
  'ssm.collectVolatileData': (
    input: ActivityInput<'ssm.collectVolatileData'>,
  ) => Promise<ActionOutput<'ssm.collectVolatileData'>>;
};

export function createVolatileDataActivities(runCommand: RunCommandFn): VolatileActivities {
  return {
    /**
     * Idempotent through Run Command's step marker: each artefact's command is marked with the step ID plus the
     * artefact name, so a retry finds the commands an earlier attempt sent instead of collecting again.
     */
    async 'ssm.collectVolatileData'({ instanceId, platform, pollIntervalMs, allowPartial, dryRun, ctx }) {
      const os = platform ?? 'linux';
      const artefacts: ActionOutput<'ssm.collectVolatileData'>['artefacts'] = [];
      const calls: NonNullable<ActionOutput<'ssm.runCommand'>['calls']> = [];
      for (const { name, commands } of VOLATILE_COMMANDS[os]) {
        const out = await runCommand(
          {
            instanceId,
            documentName: DOCUMENT[os],
            parameters: { commands },
            comment: `volatile data: ${name}`,
            pollIntervalMs,
            allowFailure: allowPartial,
            dryRun,
            ctx: ctx && { ...ctx, stepId: `${ctx.stepId}.${name}` },
          },
          { resumeFromHeartbeat: false },
        );
        if (dryRun) {
          calls.push(...(out.calls ?? []));
          continue;
        }
        const content = out.stdout ?? '';
        artefacts.push({
          name,
          commandId: out.commandId,
          status: out.status,
          responseCode: out.responseCode,
          content,
          truncated: content.length >= MAX_STDOUT,
          sha256: sha256(content),
          collectedAt: new Date().toISOString(),
        });
      }
      return { instanceId, platform: os, artefacts, ...(dryRun ? { dryRun: true, calls } : {}) };
    },
  };
}
