// Imported first by the CLI: libuv reads UV_THREADPOOL_SIZE once, at its first use. DuckDB work
// (fetching chunks, COPY) and file I/O of CSV spools share the pool; with the default of 4, a few
// long queries would delay every other request's file and engine work.
process.env['UV_THREADPOOL_SIZE'] ??= '32';
export {};
