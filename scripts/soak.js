#!/usr/bin/env node
// Soak: runs the test suite N times in a row from a fresh clone of the committed HEAD and
// prints the pass count per run and the slowest suites. `npm run test:soak -- 10`.
//
// Run 1 is the README's whole command after one `npm ci` (`npm test`: lint, type check,
// build, delivery checks, unit and e2e suites); runs 2..N repeat its jest part
// (`npm run test:jest`) on the same build, since lint, tsc and the build cannot flake.
// Uses DATABASE_URL, REDIS_URL and CI from the environment, like `npm test`.
//
// Environment: SOAK_DIR (default: a new directory under the system temp dir) keeps the
// clone, each run's log and jest's JSON reports; SOAK_KEEP=1 keeps the clone afterwards.
'use strict';
const { spawnSync } = require('node:child_process');
const {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
} = require('node:fs');
const { tmpdir } = require('node:os');
const { join, relative, resolve } = require('node:path');

const runs = Number(process.argv[2] ?? '10');
if (!Number.isInteger(runs) || runs < 1) {
  console.error('usage: npm run test:soak -- <runs (a whole number ≥ 1)>');
  process.exit(2);
}

const source = resolve(__dirname, '..');
const git = (...args) => spawnSync('git', args, { cwd: source, encoding: 'utf8' });
const head = git('rev-parse', 'HEAD').stdout.trim();
if (!head) {
  console.error('soak: not inside a git checkout');
  process.exit(2);
}
if (git('status', '--porcelain').stdout.trim()) {
  console.log('soak: note: uncommitted changes are not part of the soak (it tests HEAD)');
}

const base = process.env.SOAK_DIR
  ? resolve(process.env.SOAK_DIR)
  : mkdtempSync(join(tmpdir(), 'keel-soak-'));
mkdirSync(base, { recursive: true });
const repo = join(base, 'repo');
const results = join(base, 'results');
rmSync(repo, { recursive: true, force: true });
mkdirSync(results, { recursive: true });

/** Runs `command` in the clone, output to `log`; returns the exit code and the seconds taken. */
function run(command, log) {
  const started = Date.now();
  const fd = openSync(log, 'w');
  const result = spawnSync('bash', ['-c', command], {
    cwd: repo,
    stdio: ['ignore', fd, fd],
    env: process.env,
  });
  closeSync(fd);
  return { code: result.status ?? 1, seconds: (Date.now() - started) / 1000 };
}

console.log(`soak: ${runs} run(s) of ${head.slice(0, 12)} in ${base}`);
const clone = spawnSync('git', ['clone', '--quiet', '--no-checkout', source, repo], {
  encoding: 'utf8',
});
if (clone.status !== 0) {
  console.error(`soak: git clone failed:\n${clone.stderr}`);
  process.exit(1);
}
spawnSync('git', ['-C', repo, 'checkout', '--quiet', '--detach', head], { stdio: 'inherit' });

const install = run('npm ci --no-audit --no-fund', join(results, 'npm-ci.log'));
console.log(`soak: npm ci: exit ${install.code} in ${install.seconds.toFixed(0)} s`);
if (install.code !== 0) {
  console.error(`soak: npm ci failed, see ${join(results, 'npm-ci.log')}`);
  process.exit(1);
}

const summaries = [];
/** Per suite (path): durations in seconds over the runs. */
const durations = new Map();
for (let i = 1; i <= runs; i += 1) {
  const command = i === 1 ? 'npm test' : 'npm run test:jest';
  const log = join(results, `run-${i}.log`);
  const { code, seconds } = run(command, log);
  const summary = { run: i, command, code, seconds, passed: 0, failed: 0, skipped: 0, total: 0 };
  const failedSuites = [];
  for (const project of ['unit', 'e2e']) {
    const file = join(repo, `.jest-${project}.json`);
    if (!existsSync(file)) {
      failedSuites.push(`(${project}: no jest report)`);
      continue;
    }
    copyFileSync(file, join(results, `run-${i}-${project}.json`));
    const report = JSON.parse(readFileSync(file, 'utf8'));
    summary.passed += report.numPassedTests;
    summary.failed += report.numFailedTests;
    summary.skipped += report.numPendingTests + report.numTodoTests;
    summary.total += report.numTotalTests;
    for (const suite of report.testResults) {
      const name = relative(repo, suite.name);
      if (suite.status !== 'passed') {
        failedSuites.push(name);
      }
      const took = (suite.endTime - suite.startTime) / 1000;
      durations.set(name, [...(durations.get(name) ?? []), took]);
    }
  }
  summary.failedSuites = failedSuites;
  summaries.push(summary);
  console.log(
    `run ${i}/${runs} (${command}): ${code === 0 ? 'PASS' : 'FAIL'} exit ${code}, ` +
      `${summary.passed}/${summary.total} tests passed, ${summary.failed} failed, ` +
      `${summary.skipped} skipped, ${seconds.toFixed(0)} s` +
      (failedSuites.length ? `; failing: ${failedSuites.join(', ')}` : ''),
  );
}

const green = summaries.filter((s) => s.code === 0).length;
console.log(`\nsoak: ${green}/${runs} runs passed (commit ${head.slice(0, 12)})`);
console.log('slowest suites (mean and max seconds over the runs):');
[...durations]
  .map(([name, list]) => ({
    name,
    mean: list.reduce((a, b) => a + b, 0) / list.length,
    max: Math.max(...list),
  }))
  .sort((a, b) => b.mean - a.mean)
  .slice(0, 10)
  .forEach((s) =>
    console.log(`  ${s.mean.toFixed(1).padStart(6)} ${s.max.toFixed(1).padStart(6)}  ${s.name}`),
  );
console.log(`logs and jest reports: ${results}`);
if (process.env.SOAK_KEEP !== '1') {
  rmSync(repo, { recursive: true, force: true });
}
process.exit(green === runs ? 0 : 1);
