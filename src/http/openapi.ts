/** The OpenAPI 3.1 description served at /openapi.json. */
export function openApiDocument(): Record<string, unknown> {
  const error = { $ref: '#/components/responses/Error' };
  const errors = { '400': error, '401': error, '403': error, '404': error };
  const resultContent = {
    'application/json': { schema: { $ref: '#/components/schemas/QueryResult' } },
    'text/csv': { schema: { type: 'string' } },
    'application/vnd.apache.arrow.stream': { schema: { type: 'string', format: 'binary' } },
    'application/vnd.apache.parquet': { schema: { type: 'string', format: 'binary' } },
  };
  const jsonBody = (schema: Record<string, unknown>) => ({ required: true, content: { 'application/json': { schema } } });
  const ok = (description: string, schema: Record<string, unknown> = { type: 'object' }) => ({
    description,
    content: { 'application/json': { schema } },
  });
  const nameParam = { name: 'name', in: 'path', required: true, schema: { type: 'string' }, description: 'database.name' };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Veil',
      version: '0.1.0',
      description:
        'Secure data access gateway. Every data request is authorized, rewritten to the caller\'s effective policy, executed and audited. Results are never built whole in memory.',
    },
    security: [{ bearer: [] }],
    paths: {
      '/healthz': { get: { summary: 'Liveness', security: [], responses: { '200': ok('Server is up') } } },
      '/v1/query': {
        post: {
          summary: 'Run one SELECT statement under the caller\'s policies',
          requestBody: jsonBody({
            type: 'object',
            required: ['sql'],
            properties: { sql: { type: 'string' }, max_rows: { type: 'integer', minimum: 0 } },
          }),
          responses: { '200': { description: 'Result, streamed; format chosen by Accept', content: resultContent }, ...errors, '406': error, '408': error, '413': error, '429': { description: 'Too many queries of this user at once (Retry-After tells when to try again)' } },
        },
      },
      '/v1/scan': {
        post: {
          summary: 'Read a whole dataset (optionally some columns) under the caller\'s policies',
          requestBody: jsonBody({
            type: 'object',
            required: ['dataset'],
            properties: { dataset: { type: 'string' }, columns: { type: 'array', items: { type: 'string' } }, max_rows: { type: 'integer', minimum: 0 } },
          }),
          responses: { '200': { description: 'Result, streamed', content: resultContent }, ...errors, '408': error, '413': error, '429': { description: 'Too many queries of this user at once (Retry-After tells when to try again)' } },
        },
      },
      '/v1/explain': {
        post: {
          summary: 'Show, per dataset a query touches, visible columns, transforms, row filters and the policies behind them',
          requestBody: jsonBody({ type: 'object', required: ['sql'], properties: { sql: { type: 'string' } } }),
          responses: { '200': ok('Explanation'), ...errors },
        },
      },
      '/v1/datasets': {
        get: {
          summary: 'Datasets the caller can see',
          parameters: [{ name: 'database', in: 'query', schema: { type: 'string' } }],
          responses: { '200': ok('Datasets'), '401': error },
        },
        post: { summary: 'Register a dataset (admins)', requestBody: jsonBody({ type: 'object', required: ['name', 'location'] }), responses: { '201': ok('Registered'), ...errors, '409': error } },
      },
      '/v1/datasets/{name}': {
        parameters: [nameParam],
        get: { summary: 'Schema, tags, description and the caller\'s effective access per column', responses: { '200': ok('Dataset'), ...errors } },
        patch: { summary: 'Update description (Markdown), owner, steward, certification {status: draft|validated|deprecated, note}, column descriptions (admins)', responses: { '200': ok('Dataset'), ...errors } },
        delete: { summary: 'Drop a dataset registration (admins; files are kept)', responses: { '200': ok('Dropped'), ...errors } },
      },
      '/v1/datasets/{name}/preview': {
        parameters: [nameParam],
        get: { summary: 'The first ?limit=20 rows (at most 1000) under the caller\'s policies, audited as a preview', responses: { '200': { description: 'Rows', content: resultContent }, ...errors } },
      },
      '/v1/datasets/{name}/access': {
        parameters: [nameParam],
        get: { summary: 'Ready-to-paste snippets (python, typescript, sql, curl) for reading the dataset from this server', responses: { '200': ok('Snippets'), ...errors } },
      },
      '/v1/datasets/{name}/tags': {
        parameters: [nameParam],
        post: { summary: 'Add or remove tags on the dataset and its columns (admins)', responses: { '200': ok('Dataset'), ...errors } },
      },
      '/v1/policies': {
        get: { summary: 'List policies (admins); Accept: application/yaml exports them', responses: { '200': ok('Policies'), ...errors } },
        post: { summary: 'Apply policies from YAML or JSON (admins); ?prune=true deletes the others', responses: { '200': ok('Applied'), ...errors } },
      },
      '/v1/policies/{policy}': { delete: { summary: 'Delete a policy (admins)', responses: { '200': ok('Deleted'), ...errors } } },
      '/v1/policies/preview': {
        post: {
          summary: 'Validate policies (YAML or JSON) without applying them: problems with line and column, and whose access to which datasets and columns would change (admins); ?prune=true as when applying',
          responses: { '200': ok('PolicyChangePreview'), ...errors },
        },
      },
      '/v1/policies/history': {
        get: { summary: 'Changes to policies, newest first: who, when, and the definitions before and after (admins); ?policy=, ?limit=, ?before=<id>', responses: { '200': ok('PolicyHistory'), ...errors } },
      },
      '/v1/datasets/{name}/view-as': {
        parameters: [nameParam],
        get: {
          summary: "A user's view of the dataset for an administrator (?user=): the explanation /v1/explain gives that user, and their preview rows when these reveal nothing the administrator could not read",
          responses: { '200': ok('ViewAs'), ...errors },
        },
      },
      '/v1/users': { get: { summary: 'List users (admins)', responses: { '200': ok('Users'), ...errors } } },
      '/v1/users/{user}': {
        put: { summary: 'Create or replace a user with groups and attributes (admins)', responses: { '200': ok('User'), ...errors } },
        delete: { summary: 'Delete a user (admins)', responses: { '200': ok('Deleted'), ...errors } },
      },
      '/v1/me': { get: { summary: 'Who the token says the caller is, and how it was verified', responses: { '200': ok('Principal'), '401': error } } },
      '/v1/tokens': {
        get: { summary: 'List API tokens (admins: all or ?user=; others: their own). Secrets are never listed', responses: { '200': ok('Tokens'), ...errors } },
        post: {
          summary: 'Create an API token for a service account (admins for anyone, users for themselves); the secret is returned once',
          requestBody: jsonBody({ type: 'object', required: ['label'], properties: { user: { type: 'string' }, label: { type: 'string' }, expires_in_days: { type: 'integer' } } }),
          responses: { '201': ok('Token'), ...errors },
        },
      },
      '/v1/catalog/crawl': {
        post: {
          summary: 'Register every dataset under a storage prefix {prefix, database, owner?} (admins); re-runs report new, changed, drifted (not applied) and missing datasets',
          description: 'With Accept: application/x-ndjson the answer streams one JSON object per line: {"progress":{done,total,location,phase}} as each candidate is crawled, then {"report":CrawlReport}, or {"error":{code,message}} when the crawl fails after streaming began; refusals and bad requests keep their status and JSON error',
          requestBody: jsonBody({ type: 'object', required: ['prefix', 'database'] }),
          responses: { '200': ok('CrawlReport'), ...errors },
        },
      },
      '/v1/search': {
        get: {
          summary: 'Search the datasets the caller can read: ?q= terms (all must match) over names, descriptions, columns, tags, owners; ?database= ?tag= ?owner= ?limit= ?include_system=true. Name matches first, then score, then popularity',
          responses: { '200': ok('SearchResults'), ...errors },
        },
      },
      '/v1/audit/insights': {
        get: {
          summary: 'Audit insights over the last ?days=30: accesses over time, readers of pii/phi columns, denials, unused grants and access, top datasets and columns (compliance and admins)',
          responses: { '200': ok('Insights'), ...errors },
        },
      },
      '/v1/cache': { get: { summary: "The columnar cache: each CSV/JSON dataset's Parquet copy, its state and build progress (admins); ?dataset= repeats", responses: { '200': ok('CacheStatus'), ...errors } } },
      '/v1/cache/rebuild': { post: { summary: 'Rebuild copies in the background (admins); 202 with the status as it was, then poll GET /v1/cache', responses: { '202': ok('CacheStatus'), ...errors } } },
      '/v1/audit/verify': { get: { summary: 'Check the audit hash chain end to end (compliance and admins): ok, record and event counts, head, anchor, and the first break if any', responses: { '200': ok('AuditVerification'), ...errors } } },
      '/v1/tokens/{id}': {
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        delete: { summary: 'Revoke an API token; effective on the next request', responses: { '200': ok('Token'), ...errors } },
      },
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: {
        QueryResult: {
          type: 'object',
          properties: {
            columns: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, type: { type: 'string' } } } },
            rows: { type: 'array', items: { type: 'array', items: {} } },
            row_count: { type: 'integer' },
            truncated: { type: 'boolean' },
          },
        },
        Error: {
          type: 'object',
          properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } }, required: ['code', 'message'] } },
        },
      },
      responses: { Error: { description: 'Error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } } },
    },
  };
}
