// Imported first by the CLI: libuv reads UV_THREADPOOL_SIZE once, at its first use. CSV delivery
// holds one pool thread per streaming query in a blocking FIFO open, and DuckDB work runs on the
// pool too, so the default of 4 would let two CSV downloads starve everything else.
process.env['UV_THREADPOOL_SIZE'] ??= '32';
export {};
