#!/usr/bin/env node
// Prints one closing line, "jest: N passed, N failed, N skipped", from Jest's JSON reports.
const { existsSync, readFileSync } = require('node:fs');
let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of process.argv.slice(2)) {
  if (!existsSync(file)) {
    continue;
  }
  const report = JSON.parse(readFileSync(file, 'utf8'));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + report.numTodoTests;
}
console.log(`jest: ${passed} passed, ${failed} failed, ${skipped} skipped`);
