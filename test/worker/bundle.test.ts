/**
 * The workflow bundle preloads the pure DSL modules (worker/bundle.ts) so every workflow in a worker thread shares their
 * compiled schemas and expressions. The test stack's bundle is built the same way; this checks it really preloads them,
 * and that those modules stay pure: shared module state must never carry one execution's data into another.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PRELOAD_MODULES } from '../../worker/bundle';

const ROOT = path.resolve(__dirname, '../..');

describe('workflow bundle', () => {
  it('preloads each module of PRELOAD_MODULES', () => {
    const code = readFileSync(process.env.FIREBREAK_TEST_BUNDLE!, 'utf8');
    const body = /exports\.preloadModules = function preloadModules\(\) \{([\s\S]*?)\n\}/.exec(code)?.[1] ?? '';
    expect(PRELOAD_MODULES.length).toBeGreaterThan(0);
    for (const file of PRELOAD_MODULES) {
      const id = `"./${path.relative(ROOT, file).split(path.sep).join('/')}"`;
      expect(body).toContain(`__webpack_require__(/* webpackMode: "eager" */ /*! ${id.slice(1, -1)} */ ${id})`);
    }
  });

  it('preloads only modules whose imports are pure libraries or types', () => {
    for (const file of PRELOAD_MODULES) {
      const source = readFileSync(file, 'utf8');
      const imports = [...source.matchAll(/^import\s+(type\s+)?[^;]*?from\s+'([^']+)';/gm)].map((m) => ({
        typeOnly: Boolean(m[1]),
        from: m[2],
      }));
      const runtime = imports.filter((i) => !i.typeOnly).map((i) => i.from);
      // ajv and jsonata keep no per-execution state; anything else (the workflow API above all) must not be shared.
      expect(runtime.every((from) => from === 'ajv' || from === 'jsonata')).toBe(true);
      expect(source).not.toMatch(/Date\.now|Math\.random|new Date\(/);
    }
  });
});
