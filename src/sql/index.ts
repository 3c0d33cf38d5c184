export { parseSelect, parseExpression, printSelect, MAX_AST_DEPTH } from './sql-parser.ts';
export { asciiLower, checkUserQuery } from './query-checker.ts';
export type { CheckedQuery, TableReference } from './query-checker.ts';
export { buildScan } from './scan-builder.ts';
export { scanColumns } from './scan-columns.ts';
export type { CompiledScan } from './scan-builder.ts';
export { replaceTableReferences } from './query-rewriter.ts';
export { compilePolicyPredicate, IDENTITY_FUNCTIONS, RAW_ALIAS } from './policy-expression-compiler.ts';
export { isAllowedFunction, ALLOWED_FUNCTIONS } from './function-allowlist.ts';
