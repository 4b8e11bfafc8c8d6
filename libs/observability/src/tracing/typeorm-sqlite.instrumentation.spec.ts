import {
  sqlOperation,
  sqlTable,
  TypeormSqliteInstrumentation,
} from './typeorm-sqlite.instrumentation';

// The patching itself needs Node's own module loader (jest has its own), so the e2e suite
// (test/tracing.e2e-spec.ts) proves the spans; these cases pin the naming.
describe(TypeormSqliteInstrumentation.name, () => {
  it.each([
    ['SELECT "Credential"."id" FROM "credentials" "Credential" WHERE …', 'SELECT', 'credentials'],
    ['INSERT INTO "profiles"("id", "email") VALUES (?, ?)', 'INSERT', 'profiles'],
    ['UPDATE "sessions" SET "revoked_at" = ? WHERE "family_id" = ?', 'UPDATE', 'sessions'],
    ['DELETE FROM `sessions` WHERE id = ?', 'DELETE', 'sessions'],
    [
      'SELECT 1 AS "row_exists" FROM (SELECT 1 AS dummy_column) "dummy_table" WHERE EXISTS (SELECT 1 FROM "credentials")',
      'SELECT',
      'credentials',
    ],
    ['  begin transaction', 'BEGIN', undefined],
    ['COMMIT', 'COMMIT', undefined],
  ])('names %s as %s on %s', (sql, operation, table) => {
    expect(sqlOperation(sql)).toBe(operation);
    expect(sqlTable(sql)).toBe(table);
  });

  it('falls back to QUERY for text that does not start with a keyword', () => {
    expect(sqlOperation('(SELECT 1)')).toBe('QUERY');
  });
});
