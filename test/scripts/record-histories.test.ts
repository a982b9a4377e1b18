/**
 * The corpus recorder never overwrites a release folder: with test/histories/<package version>/ present, it refuses
 * before starting anything and leaves the folder as it was. (Recording itself is not part of the suite: it is run by
 * hand for a release, and CI replays what it wrote.)
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { sha256 } from '../../forensics/corpus';

const ROOT = path.join(__dirname, '..', '..');

function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).map((f) => [f, sha256(readFileSync(path.join(dir, f)))]));
}

test("refuses to record over the current version's existing folder, and changes nothing", async () => {
  const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const folder = path.join(ROOT, 'test', 'histories', version);
  const before = snapshot(folder);
  const run = await promisify(execFile)(
    path.join(ROOT, 'node_modules', '.bin', 'tsx'),
    [path.join(ROOT, 'scripts', 'record-histories.ts')],
    { cwd: ROOT, timeout: 60_000 },
  ).then(
    () => ({ code: 0, stderr: '' }),
    (err: { code: number; stderr: string }) => ({ code: err.code, stderr: err.stderr }),
  );
  expect(run.code).toBe(1);
  expect(run.stderr).toContain(`test/histories/${version}/ already exists`);
  expect(snapshot(folder)).toEqual(before);
  expect(readdirSync(path.dirname(folder)).filter((f) => f.startsWith('.recording'))).toEqual([]);
});
