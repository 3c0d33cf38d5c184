/**
 * Allowlist of the scalar, aggregate and window functions (and operators) a
 * user query may call.
 *
 * Every FUNCTION / WINDOW node in the json_serialize_sql AST of a user query
 * must name something on this list; anything else is rejected. The list was
 * built by hand from `SELECT DISTINCT function_name, function_type FROM
 * duckdb_functions()` on DuckDB v1.5.6 (core + json + parquet + icu), keeping
 * only functions that are pure functions of their arguments (plus the clock and
 * random-number generators). Deliberately absent, per the threat model:
 *
 *  - anything that reads or lists files (read_*, glob, sniff_csv, parquet_*),
 *  - anything that reads settings, variables, catalog or system state
 *    (current_setting, getvariable, current_schema(s), current_database,
 *    current_catalog, current_user/user/session_user/current_role,
 *    current_query, current_query_id, current_connection_id,
 *    current_transaction_id, txid_current, in_search_path, enum_*, get_type,
 *    make_type, vector_type, alias, get_block_size, every pg_catalog helper),
 *  - anything that executes, parses or emits SQL text / plans (query,
 *    query_table, json_execute_serialized_sql, json_serialize_sql,
 *    json_deserialize_sql, json_serialize_plan),
 *  - logging, user-raised errors, sequences, RNG seeding, sleeping
 *    (write_log, parse_duckdb_log_message, error, nextval, currval, setseed,
 *    sleep_ms, pg_sleep), statistics (stats),
 *  - aggregate-state plumbing (finalize, combine) and internal helpers
 *    (__internal_*, unpivot_list, sum_no_overflow, timetz_byte_comparable,
 *    variant_bytes_to_variant, variant_to_parquet_variant),
 *  - ICU collation helpers (icu_collate_*, icu_sort_key): use COLLATE instead,
 *    which is a separate AST node.
 *
 * Notes for the AST checker that consumes this list:
 *  - Names are stored lower-case; DuckDB resolves function names
 *    case-insensitively (the parser lower-cases even quoted names).
 *  - Several SQL constructs are not FUNCTION nodes at all: CASE / IF(),
 *    COALESCE / IFNULL, CAST / TRY_CAST / `::`, IN, BETWEEN, IS [NOT] NULL,
 *    comparisons, AND/OR/NOT, `x[i]`, `x[a:b]`, GROUPING(), COLLATE, lambdas
 *    and the JSON `->` operator (parsed as a LAMBDA node and bound as
 *    json_extract). Conversely some syntax *does* become a FUNCTION node:
 *    `count(*)` -> count_star, EXTRACT -> date_part, `AT TIME ZONE` ->
 *    timezone, `[..]` -> list_value, `{..}` -> struct_pack, `(a, b)` / ROW() ->
 *    row, `MAP {..}` -> map, INTERVAL -> to_days/to_hours/... + trunc,
 *    SIMILAR TO / `~` -> regexp_full_match, `x LIKE y ESCAPE z` -> like_escape,
 *    `percentile_cont(..) WITHIN GROUP` -> quantile_cont,
 *    `list(x ORDER BY y)` -> list_sort + list.
 *  - SQL value keywords written without parentheses (current_date,
 *    current_timestamp, localtime, current_user, user, session_user,
 *    current_role, current_schema, current_catalog) serialize as COLUMN_REF,
 *    not FUNCTION, and are bound to the function/macro only when no column of
 *    that name exists. This list cannot police them.
 *  - list_aggregate and its aliases (list_aggr, aggregate, array_aggr,
 *    array_aggregate) take an aggregate *name* as a string argument; every
 *    aggregate DuckDB v1.5.6 ships is harmless (the test checks this stays so).
 *  - Allowlisted macros (nullif, list_sum, date_add, json_group_object, ...)
 *    expand after parsing into calls that are not re-checked; their bodies
 *    were reviewed and only call functions that are themselves harmless.
 */

const OPERATORS = [
  // Arithmetic: a+b, -a, a-b, a*b, a/b, a//b (integer division), a%b, a**b / a^b (power)
  '+', '-', '*', '/', '//', '%', '**', '^',
  // `@a` (absolute value), `a!` (factorial)
  '@', '!__postfix',
  // Bitwise: a&b, a|b, ~a, a<<b, a>>b
  '&', '|', '~', '<<', '>>',
  // String concatenation, and `^@` (starts_with)
  '||', '^@',
  // LIKE / NOT LIKE / ILIKE / NOT ILIKE / GLOB
  '~~', '!~~', '~~*', '!~~*', '~~~',
  // Lists: @> and <@ (containment), && (overlap), <-> (distance), <=> (cosine distance)
  '@>', '<@', '&&', '<->', '<=>',
  // JSON: a->>'$.path' (extract as text). `a->'path'` is a LAMBDA node, bound to json_extract.
  '->>',
] as const;

const MATH = [
  'abs', 'acos', 'acosh', 'add', 'asin', 'asinh', 'atan', 'atan2', 'atanh',
  'cbrt', 'ceil', 'ceiling', 'cos', 'cosh', 'cot', 'degrees', 'divide', 'even',
  'exp', 'factorial', 'fdiv', 'floor', 'fmod', 'gamma', 'gcd',
  'greatest_common_divisor', 'isfinite', 'isinf', 'isnan', 'lcm',
  'least_common_multiple', 'lgamma', 'ln', 'log', 'log10', 'log2', 'mod',
  'multiply', 'nextafter', 'pi', 'pow', 'power', 'radians', 'round',
  'round_even', 'roundbankers', 'sign', 'signbit', 'sin', 'sinh', 'sqrt',
  'subtract', 'tan', 'tanh', 'trunc',
  // Histogram helpers
  'equi_width_bins', 'is_histogram_other_bin',
  // Random numbers / identifiers (setseed is NOT allowed: it mutates session state)
  'random', 'uuid', 'uuidv4', 'uuidv7', 'gen_random_uuid',
  'uuid_extract_timestamp', 'uuid_extract_version',
] as const;

const BITS = [
  'bit_count', 'bit_length', 'bit_position', 'bitstring', 'get_bit', 'set_bit',
  'xor',
] as const;

const STRINGS = [
  'ascii', 'bar', 'char_length', 'character_length', 'chr', 'concat',
  'concat_ws', 'contains', 'ends_with', 'format', 'format_bytes',
  'formatreadabledecimalsize', 'formatreadablesize', 'instr', 'lcase', 'left',
  'left_grapheme', 'len', 'length', 'length_grapheme', 'lower', 'lpad', 'ltrim',
  'nfc_normalize', 'octet_length', 'ord', 'parse_formatted_bytes', 'position',
  'prefix', 'printf', 'repeat', 'replace', 'reverse', 'right', 'right_grapheme',
  'rpad', 'rtrim', 'split', 'split_part', 'starts_with', 'str_split',
  'string_split', 'string_to_array', 'strip_accents', 'strlen', 'strpos',
  'substr', 'substring', 'substring_grapheme', 'suffix', 'translate', 'trim',
  'ucase', 'unicode', 'upper', 'url_decode', 'url_encode',
  // Pure string manipulation of path-like text; they do not touch the file system.
  'parse_dirname', 'parse_dirpath', 'parse_filename', 'parse_path',
] as const;

const PATTERNS = [
  // LIKE ... ESCAPE variants
  'like_escape', 'not_like_escape', 'ilike_escape', 'not_ilike_escape',
  // Regular expressions (RE2; SIMILAR TO and `~` serialize as regexp_full_match)
  'regexp_escape', 'regexp_extract', 'regexp_extract_all', 'regexp_full_match',
  'regexp_matches', 'regexp_replace', 'regexp_split_to_array',
  'regexp_split_to_table', 'str_split_regex', 'string_split_regex',
] as const;

const TEXT_SIMILARITY = [
  'damerau_levenshtein', 'editdist3', 'hamming', 'jaccard', 'jaro_similarity',
  'jaro_winkler_similarity', 'levenshtein', 'mismatches',
] as const;

const ENCODING_AND_HASHING = [
  'base64', 'bin', 'decode', 'encode', 'from_base64', 'from_binary', 'from_hex',
  'hex', 'to_base', 'to_base64', 'to_binary', 'to_hex', 'unbin', 'unhex',
  'hash', 'md5', 'md5_number', 'md5_number_lower', 'md5_number_upper', 'sha1',
  'sha256',
] as const;

const DATE_TIME = [
  // Clock (current_date etc. without parentheses are COLUMN_REFs, see header)
  'current_date', 'current_localtime', 'current_localtimestamp',
  'get_current_time', 'get_current_timestamp', 'now', 'today',
  'transaction_timestamp', 'ago',
  // Arithmetic / truncation / differences
  'age', 'date_add', 'date_diff', 'date_part', 'date_sub', 'date_trunc',
  'datediff', 'datepart', 'datesub', 'datetrunc', 'time_bucket', 'last_day',
  'days_in_month', 'normalized_interval',
  // Date part extraction (EXTRACT serializes as date_part)
  'century', 'day', 'dayname', 'dayofmonth', 'dayofweek', 'dayofyear', 'decade',
  'epoch', 'epoch_ms', 'epoch_ns', 'epoch_us', 'era', 'hour', 'isodow',
  'isoyear', 'julian', 'microsecond', 'millennium', 'millisecond', 'minute',
  'month', 'monthname', 'nanosecond', 'quarter', 'second', 'timezone_hour',
  'timezone_minute', 'week', 'weekday', 'weekofyear', 'year', 'yearweek',
  // Construction / formatting / parsing (`x AT TIME ZONE tz` -> timezone)
  'make_date', 'make_time', 'make_timestamp', 'make_timestamp_ms',
  'make_timestamp_ns', 'make_timestamptz', 'strftime', 'strptime',
  'try_strptime', 'timezone', 'to_timestamp',
  // Interval construction (INTERVAL literals serialize as to_days etc.)
  'to_centuries', 'to_days', 'to_decades', 'to_hours', 'to_microseconds',
  'to_millennia', 'to_milliseconds', 'to_minutes', 'to_months', 'to_quarters',
  'to_seconds', 'to_weeks', 'to_years',
] as const;

const LISTS_AND_ARRAYS = [
  // Construction (`[a, b]` -> list_value); generate_series/range/repeat also
  // exist as table functions, but those are TABLE_FUNCTION nodes, not FUNCTION.
  'list_value', 'list_pack', 'array_value',
  'generate_subscripts', 'unnest', 'flatten', 'cardinality',
  // Lambdas: list_transform(l, lambda x: x + 1) etc.
  'apply', 'array_apply', 'array_transform', 'list_apply', 'list_transform',
  'filter', 'array_filter', 'list_filter', 'reduce', 'array_reduce',
  'list_reduce',
  // list_aggregate(l, 'aggregate_name'): see header note
  'aggregate', 'array_aggr', 'array_aggregate', 'list_aggr', 'list_aggregate',
  // Element access / search
  'array_extract', 'list_element', 'list_extract', 'array_contains',
  'array_has', 'list_contains', 'list_has', 'array_has_all', 'list_has_all',
  'array_has_any', 'list_has_any', 'array_indexof', 'array_position',
  'list_indexof', 'list_position', 'array_length',
  // Reshaping
  'array_append', 'list_append', 'array_prepend', 'list_prepend',
  'array_push_back', 'array_push_front', 'array_pop_back', 'array_pop_front',
  'array_cat', 'array_concat', 'list_cat', 'list_concat', 'array_slice',
  'list_slice', 'array_reverse', 'list_reverse',
  'array_select', 'list_select', 'array_where', 'list_where', 'array_zip',
  'list_zip', 'array_distinct', 'list_distinct', 'array_unique', 'list_unique',
  'array_intersect', 'list_intersect',
  // Sorting
  'array_sort', 'list_sort', 'array_reverse_sort', 'list_reverse_sort',
  'array_grade_up', 'grade_up', 'list_grade_up',
  // Vector maths
  'array_cosine_distance', 'array_cosine_similarity', 'array_cross_product',
  'array_distance', 'array_dot_product', 'array_inner_product',
  'array_negative_dot_product', 'array_negative_inner_product',
  'list_cosine_distance', 'list_cosine_similarity', 'list_distance',
  'list_dot_product', 'list_inner_product', 'list_negative_dot_product',
  'list_negative_inner_product',
  // To text
  'array_to_string', 'array_to_string_comma_default',
  // list_<aggregate> macros (expand to list_aggr(l, '<aggregate>'))
  'list_any_value', 'list_approx_count_distinct', 'list_avg', 'list_bit_and',
  'list_bit_or', 'list_bit_xor', 'list_bool_and', 'list_bool_or', 'list_count',
  'list_entropy', 'list_first', 'list_histogram', 'list_kurtosis',
  'list_kurtosis_pop', 'list_last', 'list_mad', 'list_max', 'list_median',
  'list_min', 'list_mode', 'list_product', 'list_sem', 'list_skewness',
  'list_stddev_pop', 'list_stddev_samp', 'list_string_agg', 'list_sum',
  'list_var_pop', 'list_var_samp',
] as const;

const STRUCTS_MAPS_UNIONS = [
  // Structs (`{'a': 1}` -> struct_pack, `(a, b)` / ROW(a, b) -> row)
  'row', 'struct_pack', 'struct_concat', 'struct_contains', 'struct_extract',
  'struct_extract_at', 'struct_has', 'struct_indexof', 'struct_insert',
  'struct_keys', 'struct_position', 'struct_update', 'struct_values',
  'remap_struct',
  // Maps (`MAP {..}` -> map)
  'map', 'map_concat', 'map_contains', 'map_contains_entry',
  'map_contains_value', 'map_entries', 'map_extract', 'map_extract_value',
  'map_from_entries', 'map_keys', 'map_values', 'element_at',
  // Unions
  'union_extract', 'union_tag', 'union_value',
  // VARIANT values
  'variant_extract', 'variant_normalize', 'variant_typeof',
] as const;

const JSON_VALUES = [
  'json', 'json_array', 'json_array_length', 'json_contains', 'json_exists',
  'json_extract', 'json_extract_path', 'json_extract_path_text',
  'json_extract_string', 'json_keys', 'json_merge_patch', 'json_object',
  'json_pretty', 'json_quote', 'json_structure', 'json_transform',
  'json_transform_strict', 'json_type', 'json_valid', 'json_value',
  'from_json', 'from_json_strict', 'to_json', 'row_to_json', 'array_to_json',
  // Aggregating macros
  'json_group_array', 'json_group_object', 'json_group_structure',
] as const;

const GEOMETRY = [
  'st_asbinary', 'st_astext', 'st_aswkb', 'st_aswkt', 'st_crs',
  'st_geomfromwkb', 'st_intersects_extent', 'st_setcrs',
] as const;

const CONDITIONAL_AND_MISC = [
  // COALESCE / IFNULL / IF / CASE are not FUNCTION nodes; these are.
  'nullif', 'greatest', 'least', 'switch', 'constant_or_null',
  // Type of a value
  'typeof',
  // Binary-comparable sort key from values (pure)
  'create_sort_key',
  // Engine version string (DuckDB release, no configuration)
  'version',
] as const;

const AGGREGATES = [
  'any_value', 'arbitrary', 'first', 'last',
  'count', 'count_star', 'count_if', 'countif',
  'sum', 'fsum', 'kahan_sum', 'sumkahan', 'product',
  'avg', 'mean', 'favg', 'weighted_avg', 'wavg', 'geomean', 'geometric_mean',
  'min', 'max', 'arg_min', 'argmin', 'min_by', 'arg_min_null',
  'arg_min_nulls_last', 'arg_max', 'argmax', 'max_by', 'arg_max_null',
  'arg_max_nulls_last',
  'stddev', 'stddev_pop', 'stddev_samp', 'variance', 'var_pop', 'var_samp',
  'sem', 'kurtosis', 'kurtosis_pop', 'skewness', 'entropy', 'mad',
  'median', 'mode', 'quantile', 'quantile_cont', 'quantile_disc',
  'reservoir_quantile', 'approx_quantile', 'approx_count_distinct',
  'approx_top_k', 'histogram', 'histogram_exact',
  'corr', 'covar_pop', 'covar_samp', 'regr_avgx', 'regr_avgy', 'regr_count',
  'regr_intercept', 'regr_r2', 'regr_slope', 'regr_sxx', 'regr_sxy',
  'regr_syy',
  'bool_and', 'bool_or', 'bit_and', 'bit_or', 'bit_xor', 'bitstring_agg',
  'list', 'array_agg', 'string_agg', 'group_concat', 'listagg',
] as const;

const WINDOW_FUNCTIONS = [
  'row_number', 'rank', 'dense_rank', 'rank_dense', 'percent_rank',
  'cume_dist', 'ntile', 'lag', 'lead', 'first_value', 'last_value',
  'nth_value', 'fill',
] as const;

/** A Set that cannot be modified after construction (not even through a cast). */
class ImmutableSet extends Set<string> {
  constructor(values: Iterable<string>) {
    super();
    for (const v of values) Set.prototype.add.call(this, v);
    Object.freeze(this);
  }
  override add(): never {
    throw new TypeError('ALLOWED_FUNCTIONS is immutable');
  }
  override delete(): never {
    throw new TypeError('ALLOWED_FUNCTIONS is immutable');
  }
  override clear(): never {
    throw new TypeError('ALLOWED_FUNCTIONS is immutable');
  }
}

/** Lower-case names of scalar/aggregate/window functions and operators a user query may call. */
export const ALLOWED_FUNCTIONS: ReadonlySet<string> = new ImmutableSet([
  ...OPERATORS,
  ...MATH,
  ...BITS,
  ...STRINGS,
  ...PATTERNS,
  ...TEXT_SIMILARITY,
  ...ENCODING_AND_HASHING,
  ...DATE_TIME,
  ...LISTS_AND_ARRAYS,
  ...STRUCTS_MAPS_UNIONS,
  ...JSON_VALUES,
  ...GEOMETRY,
  ...CONDITIONAL_AND_MISC,
  ...AGGREGATES,
  ...WINDOW_FUNCTIONS,
]);

/**
 * Whether `name` (a FUNCTION / WINDOW node's function_name) may be called.
 * Case-insensitive, folding ASCII letters only, like DuckDB's own catalog
 * lookup: String.prototype.toLowerCase would also fold e.g. U+212A KELVIN SIGN
 * to "k", which DuckDB does not.
 */
export function isAllowedFunction(name: string): boolean {
  return ALLOWED_FUNCTIONS.has(name.replace(/[A-Z]/g, (c) => c.toLowerCase()));
}
