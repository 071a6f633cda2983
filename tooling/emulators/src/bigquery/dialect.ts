import type { LexerDialect, Token } from '../warehouse/lexer.js'
import {
  detokenize,
  duckIdent,
  duckString,
  isSignificant,
  rawToken,
  SqlLexError,
  tokenize,
} from '../warehouse/lexer.js'
import type { CallRewriter, ParserWorkaround } from '../warehouse/sql.js'
import {
  calledFunctions,
  isKeywordsThenName,
  isWord,
  matchingParen,
  NON_FUNCTION_WORDS,
  nextSig,
  parseWithWorkarounds,
  positionOf,
  prevSig,
  removeWordSequence,
  replaceWords,
  rewriteCalls,
  rewriteTableReferences,
  rewriteTypeNames,
  SqlRejection,
  splitStatements,
  withoutQualify,
} from '../warehouse/sql.js'

/** BigQuery GoogleSQL lexical rules. */
export const BIGQUERY_LEXER: LexerDialect = {
  identQuote: '`',
  doubleQuotedStrings: true,
  backslashEscapes: true,
  atParams: true,
  colonParams: false,
  hashComments: true,
  slashSlashComments: false,
}

/** A query parameter as the REST API sends it (`queryParameters[]`). */
export interface BigQueryParameter {
  name?: string
  parameterType: { type: string; arrayType?: { type: string } }
  parameterValue: {
    value?: string | number | boolean | null
    arrayValues?: Array<{ value?: string | number | boolean | null }>
  }
}

/** Result of translating one GoogleSQL statement. */
export interface TranslatedBigQuery {
  sql: string
  params: Record<string, string | null>
  /** Upper-cased leading keyword(s): SELECT, INSERT, CREATE_TABLE, ... (BigQuery's statementType). */
  statementType: string
  /** Table references after translation, as `dataset.table` (for error messages). */
  tables: string[]
}

/** Options for {@link translateBigQuery}. */
export interface TranslateOptions {
  parameterMode?: string
  queryParameters?: BigQueryParameter[]
  /** `datasetId` used for unqualified table names (the request's `defaultDataset`). */
  defaultDataset?: string
}

const PARAM_TYPES: Record<string, string> = {
  INT64: 'BIGINT',
  INTEGER: 'BIGINT',
  FLOAT64: 'DOUBLE',
  FLOAT: 'DOUBLE',
  NUMERIC: 'DECIMAL(38,9)',
  BIGNUMERIC: 'DECIMAL(38,9)',
  BOOL: 'BOOLEAN',
  BOOLEAN: 'BOOLEAN',
  STRING: 'VARCHAR',
  BYTES: 'BLOB',
  DATE: 'DATE',
  DATETIME: 'TIMESTAMP',
  TIMESTAMP: 'TIMESTAMPTZ',
  TIME: 'TIME',
  JSON: 'VARCHAR',
}

/** GoogleSQL type names -> DuckDB type names (used in CAST targets, typed literals and DDL). */
const TYPE_NAMES: Record<string, string> = {
  INT64: 'BIGINT',
  FLOAT64: 'DOUBLE',
  STRING: 'VARCHAR',
  BOOL: 'BOOLEAN',
  BYTES: 'BLOB',
  NUMERIC: 'DECIMAL(38,9)',
  DECIMAL: 'DECIMAL(38,9)',
  BIGNUMERIC: 'DECIMAL(38,9)',
  BIGDECIMAL: 'DECIMAL(38,9)',
  DATETIME: 'TIMESTAMP',
  TIMESTAMP: 'TIMESTAMPTZ',
  JSON: 'VARCHAR',
}

const INTERVAL_UNITS = new Set([
  'MICROSECOND',
  'MILLISECOND',
  'SECOND',
  'MINUTE',
  'HOUR',
  'DAY',
  'WEEK',
  'MONTH',
  'QUARTER',
  'YEAR',
])

/** GoogleSQL statements the emulator does not run (reported as unsupported, not as syntax errors). */
const VALID_BUT_UNSUPPORTED = [
  'MERGE',
  'ALTER',
  'DECLARE',
  'SET',
  'BEGIN',
  'CALL',
  'EXECUTE',
  'EXPORT',
  'LOAD',
  'GRANT',
  'REVOKE',
  'ASSERT',
  'COMMIT',
  'ROLLBACK',
]

/** Words that may precede `(` without being a function call. */
const NON_FUNCTIONS = new Set([
  ...NON_FUNCTION_WORDS,
  'ARRAY',
  'STRUCT',
  'UNNEST',
  'RETURNS',
  'WINDOW',
  // Type names that take parameters.
  'NUMERIC',
  'BIGNUMERIC',
  'DECIMAL',
  'BIGDECIMAL',
  'STRING',
  'BYTES',
])

/**
 * Functions the emulator accepts: they exist in GoogleSQL and either behave the same in DuckDB or
 * are rewritten below. Anything else fails with BigQuery's "Function not found" error.
 */
const SAME_FUNCTIONS = [
  'COUNT',
  'SUM',
  'AVG',
  'MIN',
  'MAX',
  'ANY_VALUE',
  'ARRAY_AGG',
  'STRING_AGG',
  'STDDEV',
  'STDDEV_POP',
  'STDDEV_SAMP',
  'VARIANCE',
  'VAR_POP',
  'VAR_SAMP',
  'ROW_NUMBER',
  'RANK',
  'DENSE_RANK',
  'PERCENT_RANK',
  'CUME_DIST',
  'NTILE',
  'LAG',
  'LEAD',
  'FIRST_VALUE',
  'LAST_VALUE',
  'NTH_VALUE',
  'ABS',
  'ROUND',
  'FLOOR',
  'CEIL',
  'CEILING',
  'MOD',
  'SQRT',
  'POW',
  'POWER',
  'LN',
  'LOG10',
  'EXP',
  'SIGN',
  'GREATEST',
  'LEAST',
  'COALESCE',
  'IFNULL',
  'NULLIF',
  'IF',
  'CONCAT',
  'LOWER',
  'UPPER',
  'LENGTH',
  'TRIM',
  'LTRIM',
  'RTRIM',
  'SUBSTR',
  'SUBSTRING',
  'REPLACE',
  'STARTS_WITH',
  'ENDS_WITH',
  'STRPOS',
  'REVERSE',
  'CAST',
  'EXTRACT',
  'UNNEST',
]

const REWRITTEN_FUNCTIONS: Record<string, CallRewriter> = {
  TIMESTAMP_SUB: intervalArithmetic('-', 'TIMESTAMP_SUB', 'DAY'),
  TIMESTAMP_ADD: intervalArithmetic('+', 'TIMESTAMP_ADD', 'DAY'),
  DATETIME_SUB: intervalArithmetic('-', 'DATETIME_SUB'),
  DATETIME_ADD: intervalArithmetic('+', 'DATETIME_ADD'),
  DATE_SUB: (a, t) => `CAST(${intervalArithmetic('-', 'DATE_SUB')(a, t)} AS DATE)`,
  DATE_ADD: (a, t) => `CAST(${intervalArithmetic('+', 'DATE_ADD')(a, t)} AS DATE)`,
  TIMESTAMP_DIFF: diff,
  DATETIME_DIFF: diff,
  DATE_DIFF: (a) => `date_diff(${unitLiteral(a[2])}, ${arg(a, 1)}, ${arg(a, 0)})`,
  TIMESTAMP_TRUNC: (a) => `date_trunc(${unitLiteral(a[1])}, ${arg(a, 0)})`,
  DATETIME_TRUNC: (a) => `date_trunc(${unitLiteral(a[1])}, ${arg(a, 0)})`,
  DATE_TRUNC: (a) => `CAST(date_trunc(${unitLiteral(a[1])}, ${arg(a, 0)}) AS DATE)`,
  CURRENT_TIMESTAMP: () => 'CURRENT_TIMESTAMP',
  CURRENT_DATE: () => 'CURRENT_DATE',
  CURRENT_DATETIME: () => 'CAST(CURRENT_TIMESTAMP AS TIMESTAMP)',
  TIMESTAMP: (a) => `CAST(${arg(a, 0)} AS TIMESTAMPTZ)`,
  DATETIME: (a) => `CAST(${arg(a, 0)} AS TIMESTAMP)`,
  DATE: (a) => `CAST(${arg(a, 0)} AS DATE)`,
  SAFE_CAST: (a) => `TRY_CAST(${a.join(', ')})`,
  GENERATE_ARRAY: (a) => `generate_series(${a.join(', ')})`,
  ARRAY_LENGTH: (a) => `len(${arg(a, 0)})`,
  COUNTIF: (a) => `count_if(${arg(a, 0)})`,
  LOGICAL_AND: (a) => `bool_and(${arg(a, 0)})`,
  LOGICAL_OR: (a) => `bool_or(${arg(a, 0)})`,
  UNIX_MICROS: (a) => `epoch_us(${arg(a, 0)})`,
  UNIX_MILLIS: (a) => `epoch_ms(${arg(a, 0)})`,
  UNIX_SECONDS: (a) => `CAST(floor(epoch(${arg(a, 0)})) AS BIGINT)`,
  TIMESTAMP_MICROS: (a) => `CAST(make_timestamp(${arg(a, 0)}) AS TIMESTAMPTZ)`,
  TIMESTAMP_MILLIS: (a) => `CAST(make_timestamp((${arg(a, 0)}) * 1000) AS TIMESTAMPTZ)`,
  TIMESTAMP_SECONDS: (a) => `to_timestamp(${arg(a, 0)})`,
  SAFE_DIVIDE: (a) =>
    `(CASE WHEN (${arg(a, 1)}) = 0 THEN NULL ELSE (${arg(a, 0)}) / (${arg(a, 1)}) END)`,
  DIV: (a) => `((${arg(a, 0)}) // (${arg(a, 1)}))`,
  STRUCT: (_a, tokens) => {
    const fields = tokens.map((field, i) => {
      const sig = field.filter(isSignificant)
      const as = sig.length >= 3 ? sig[sig.length - 2] : undefined
      const name = sig[sig.length - 1]
      if (!isWord(as, 'AS') || !name || (name.kind !== 'word' && name.kind !== 'quoted')) {
        throw new SqlRejection(
          'unsupported',
          `STRUCT field ${i + 1} needs a name (expr AS name) in the emulator`,
        )
      }
      const expr = detokenize(field.slice(0, field.indexOf(as!)))
      return `${duckIdent(name.kind === 'quoted' ? name.value : name.text)} := ${expr.trim()}`
    })
    return `struct_pack(${fields.join(', ')})`
  },
}

/** Every function name the emulator accepts (for the README and the check). */
export const SUPPORTED_FUNCTIONS: ReadonlySet<string> = new Set([
  ...SAME_FUNCTIONS,
  ...Object.keys(REWRITTEN_FUNCTIONS),
])

function arg(args: string[], i: number): string {
  const a = args[i]
  if (a === undefined) throw new SqlRejection('syntax', `Syntax error: missing argument ${i + 1}`)
  return a
}

function unitLiteral(text: string | undefined): string {
  const unit = (text ?? '').trim().toUpperCase()
  if (!INTERVAL_UNITS.has(unit)) {
    throw new SqlRejection('syntax', `A valid date part name is required but found ${text ?? ''}`)
  }
  return `'${unit.toLowerCase()}'`
}

function diff(args: string[]): string {
  return `date_sub(${unitLiteral(args[2])}, ${arg(args, 1)}, ${arg(args, 0)})`
}

/** `F(x, INTERVAL n unit)` -> `(x op INTERVAL (n) unit)`. */
function intervalArithmetic(op: '+' | '-', name: string, maxUnit?: 'DAY'): CallRewriter {
  return (args, tokens) => {
    const interval = (tokens[1] ?? []).filter(isSignificant)
    if (!isWord(interval[0], 'INTERVAL')) {
      throw new SqlRejection(
        'syntax',
        'Syntax error: the second argument must be an INTERVAL expression (INTERVAL n unit)',
      )
    }
    const unit = interval[interval.length - 1]?.value ?? ''
    if (maxUnit && ['WEEK', 'MONTH', 'QUARTER', 'YEAR'].includes(unit)) {
      throw new SqlRejection('syntax', `${name} does not support the ${unit} date part`)
    }
    return `(${arg(args, 0)} ${op} ${arg(args, 1)})`
  }
}

function reject(
  tokens: readonly Token[],
  index: number,
  kind: SqlRejection['kind'],
  message: string,
): never {
  const { line, column } = positionOf(tokens, index)
  throw new SqlRejection(kind, `${message} at [${line}:${column}]`, line, column)
}

/**
 * Validates one GoogleSQL statement and translates it into DuckDB SQL, following the rules listed
 * in this folder's README. Throws {@link SqlRejection} for anything BigQuery would reject or the
 * emulator does not support.
 */
export function translateBigQuery(
  sqlText: string,
  options: TranslateOptions = {},
): TranslatedBigQuery {
  let all: Token[]
  try {
    all = tokenize(sqlText, BIGQUERY_LEXER)
  } catch (err) {
    if (err instanceof SqlLexError) throw new SqlRejection('syntax', `Syntax error: ${err.message}`)
    throw err
  }
  const statements = splitStatements(all)
  if (statements.length === 0)
    throw new SqlRejection('syntax', 'Syntax error: Unexpected end of script')
  if (statements.length > 1) {
    throw new SqlRejection(
      'unsupported',
      'Multi-statement scripts are not supported by the emulator',
    )
  }
  const tokens = withoutTableOptions(statements[0]!)
  const firstWord = tokens.find(isSignificant)
  if (firstWord?.kind === 'word' && VALID_BUT_UNSUPPORTED.includes(firstWord.value)) {
    throw new SqlRejection(
      'unsupported',
      `${firstWord.value} statements are not supported by the emulator`,
    )
  }
  validateSyntax(tokens)
  const statementType = statementTypeOf(tokens)
  const cast = tokens.findIndex((t) => t.kind === 'op' && t.text === '::')
  if (cast >= 0) reject(tokens, cast, 'syntax', 'Syntax error: Unexpected ":"')

  for (const { name, index } of calledFunctions(tokens, NON_FUNCTIONS)) {
    if (!SUPPORTED_FUNCTIONS.has(name)) {
      reject(tokens, index, 'function', `Function not found: ${tokens[index]!.text}`)
    }
  }

  let out = tokens.map((t) => (t.kind === 'string' ? rawToken(duckString(t.value), 'string') : t))
  out = out.map((t) => (t.kind === 'quoted' ? { ...t, text: duckIdent(t.value) } : t))
  const tables: string[] = []
  out = qualifyTables(out, options.defaultDataset, tables)
  out = bigQueryTypes(arrayTypes(out))
  out = parenthesizeIntervals(out)
  out = rewriteUnnest(out)
  out = starExcept(out)
  const { tokens: withParams, params } = bindParameters(out, options)
  out = rewriteCalls(withParams, REWRITTEN_FUNCTIONS)
  return { sql: detokenize(out), params, statementType, tables }
}

/**
 * `CREATE [OR REPLACE] TABLE name OPTIONS (key = expr, ...) AS ...`: the OPTIONS list is
 * checked (`key = expr` entries, lower-case keys) and removed; the emulator keeps no table
 * options (tables never expire in it). Other statements pass unchanged.
 */
function withoutTableOptions(tokens: Token[]): Token[] {
  const sig = tokens.map((t, i) => [t, i] as const).filter(([t]) => isSignificant(t))
  let k = 0
  if (!isWord(sig[k]?.[0], 'CREATE')) return tokens
  k++
  if (isWord(sig[k]?.[0], 'OR') && isWord(sig[k + 1]?.[0], 'REPLACE')) k += 2
  if (!isWord(sig[k]?.[0], 'TABLE')) return tokens
  k++
  if (isWord(sig[k]?.[0], 'IF')) k += 3
  // The table name: words, quoted parts and dots.
  while (
    sig[k] &&
    ['word', 'quoted', 'dot'].includes(sig[k]![0].kind) &&
    !isWord(sig[k]![0], 'OPTIONS', 'AS')
  )
    k++
  const options = sig[k]
  if (!isWord(options?.[0], 'OPTIONS') || sig[k + 1]?.[0].kind !== 'lparen') return tokens
  const open = sig[k + 1]![1]
  const close = matchingParen(tokens, open)
  const inner = tokens.slice(open + 1, close)
  let depth = 0
  let entry: Token[] = []
  const entries: Token[][] = []
  for (const t of inner) {
    if (t.kind === 'lparen') depth++
    if (t.kind === 'rparen') depth--
    if (t.kind === 'comma' && depth === 0) {
      entries.push(entry)
      entry = []
    } else if (isSignificant(t)) entry.push(t)
  }
  if (entry.length > 0) entries.push(entry)
  for (const e of entries) {
    if (
      e[0]?.kind !== 'word' ||
      !/^[a-z_]+$/.test(e[0].text) ||
      e[1]?.text !== '=' ||
      e.length < 3
    ) {
      reject(tokens, open, 'syntax', 'Syntax error: OPTIONS expects name = value entries')
    }
  }
  return [...tokens.slice(0, options![1]), ...tokens.slice(close + 1)]
}

/**
 * Valid GoogleSQL that node-sql-parser 5.4's BigQuery grammar rejects. Each rewrite only touches
 * the copy handed to the parser; DuckDB receives the translated original.
 */
export const PARSER_WORKAROUNDS: readonly ParserWorkaround[] = [
  { gap: 'QUALIFY clause (checked without it)', apply: withoutQualify },
  {
    gap: 'ARRAY<T> type names (checked as STRING)',
    apply: (tokens) => {
      const out: Token[] = []
      let changed = false
      for (let i = 0; i < tokens.length; i++) {
        const found = arrayTypeEnd(tokens, i)
        if (found === -1) out.push(tokens[i]!)
        else {
          out.push(rawToken('STRING', 'word'))
          i = found.end
          changed = true
        }
      }
      return changed ? out : undefined
    },
  },
  {
    gap: 'INTERVAL n MICROSECOND / MILLISECOND (checked as SECOND)',
    apply: (tokens) => replaceWords(tokens, { MICROSECOND: 'SECOND', MILLISECOND: 'SECOND' }),
  },
  {
    gap: 'backticked CTE names and names with escape sequences (every backticked name checked as a plain name)',
    apply: (tokens) => {
      const names = new Map<string, string>()
      const out = tokens.map((t) => {
        if (t.kind !== 'quoted') return t
        let name = names.get(t.value)
        if (name === undefined) {
          name = `__q${names.size + 1}`
          names.set(t.value, name)
        }
        return rawToken(name, 'word')
      })
      return names.size > 0 ? out : undefined
    },
  },
  {
    gap: 'types BYTES, JSON, BIGNUMERIC/BIGDECIMAL and parameterized NUMERIC(P,S)/STRING(L)/BYTES(L) (checked as STRING/NUMERIC)',
    apply: (tokens) => {
      let changed = false
      const out = rewriteTypeNames(tokens, (word, hasArgs) => {
        const as = {
          BYTES: 'STRING',
          JSON: 'STRING',
          BIGNUMERIC: 'NUMERIC',
          BIGDECIMAL: 'NUMERIC',
        }[word]
        if (as || (hasArgs && ['NUMERIC', 'DECIMAL', 'STRING'].includes(word))) {
          changed = true
          return { text: as ?? word, dropArgs: hasArgs }
        }
        return undefined
      })
      return changed ? out : undefined
    },
  },
  {
    gap: 'DELETE FROM t (checked as DELETE t)',
    apply: (tokens) => {
      const d = nextSig(tokens, 0)
      const f = nextSig(tokens, d + 1)
      if (!isWord(tokens[d], 'DELETE') || !isWord(tokens[f], 'FROM')) return undefined
      return [...tokens.slice(0, f), rawToken(' '), ...tokens.slice(f + 1)]
    },
  },
  {
    gap: 'UPDATE t SET a = x WHERE c (checked as SELECT a = x FROM t WHERE c)',
    apply: (tokens) => {
      const u = nextSig(tokens, 0)
      if (!isWord(tokens[u], 'UPDATE')) return undefined
      const set = tokens.findIndex((t) => isWord(t, 'SET'))
      if (set < 0) return undefined
      let where = tokens.findIndex((t, i) => i > set && isWord(t, 'WHERE'))
      if (where < 0) where = tokens.length
      return [
        rawToken('SELECT '),
        ...tokens.slice(set + 1, where),
        rawToken(' FROM '),
        ...tokens.slice(u + 1, set),
        rawToken(' '),
        ...tokens.slice(where),
      ]
    },
  },
  {
    gap: 'DROP ... IF EXISTS (checked without IF EXISTS)',
    apply: (tokens) =>
      isWord(tokens[nextSig(tokens, 0)], 'DROP')
        ? removeWordSequence(tokens, ['IF', 'EXISTS'])
        : undefined,
  },
  {
    gap: 'NULLS FIRST / NULLS LAST in ORDER BY (checked without them)',
    apply: (tokens) => {
      const a = removeWordSequence(tokens, ['NULLS', 'FIRST'])
      const b = removeWordSequence(a ?? tokens, ['NULLS', 'LAST'])
      return b ?? a
    },
  },
  {
    gap: 'CREATE SCHEMA / DROP SCHEMA (checked by the emulator: keywords then a name)',
    apply: (tokens) =>
      isKeywordsThenName(tokens, ['CREATE', 'SCHEMA', 'IF?', 'NOT?', 'EXISTS?']) ||
      isKeywordsThenName(tokens, ['DROP', 'SCHEMA', 'IF?', 'EXISTS?'])
        ? [rawToken('SELECT 1')]
        : undefined,
  },
]

/** Runs node-sql-parser's BigQuery grammar over the statement, working around its known gaps. */
function validateSyntax(tokens: readonly Token[]): void {
  // Gap: the grammar has no positional `?` parameters; check the statement with named ones instead.
  let n = 0
  const forParser = tokens.map((t) =>
    t.kind === 'param' && t.value === '' ? rawToken(`@__p${++n}`) : t,
  )
  const outcome = parseWithWorkarounds(forParser, 'bigquery', PARSER_WORKAROUNDS)
  if (outcome.ok) return
  const found = outcome.found === null ? 'end of input' : `"${outcome.found}"`
  throw new SqlRejection(
    'syntax',
    `Syntax error: Unexpected ${found} at [${outcome.line}:${outcome.column}]`,
    outcome.line,
    outcome.column,
  )
}

function statementTypeOf(tokens: readonly Token[]): string {
  const sig = tokens.filter(isSignificant)
  const w = (i: number): string => (sig[i]?.kind === 'word' ? sig[i]!.value : '')
  switch (w(0)) {
    case 'SELECT':
    case 'WITH':
      return 'SELECT'
    case '':
      if (sig[0]?.kind === 'lparen') return 'SELECT'
      break
    case 'INSERT':
    case 'UPDATE':
    case 'DELETE':
      return w(0)
    case 'CREATE': {
      let i = 1
      if (w(1) === 'OR' && w(2) === 'REPLACE') i = 3
      if (w(i) === 'TABLE') return 'CREATE_TABLE'
      if (w(i) === 'SCHEMA') return 'CREATE_SCHEMA'
      if (w(i) === 'VIEW') return 'CREATE_VIEW'
      break
    }
    case 'DROP':
      if (w(1) === 'TABLE') return 'DROP_TABLE'
      if (w(1) === 'SCHEMA') return 'DROP_SCHEMA'
      if (w(1) === 'VIEW') return 'DROP_VIEW'
      break
    case 'TRUNCATE':
      return 'TRUNCATE_TABLE'
  }
  throw new SqlRejection(
    'unsupported',
    `Statement not supported by the emulator: ${sig
      .slice(0, 2)
      .map((t) => t.text)
      .join(
        ' ',
      )} (supported: SELECT/WITH, INSERT, UPDATE, DELETE, CREATE [OR REPLACE] TABLE/VIEW/SCHEMA, DROP TABLE/VIEW/SCHEMA, TRUNCATE TABLE)`,
  )
}

/**
 * A table path written in one pair of backticks (`` `p.d.t` ``) is split at its dots into
 * `"p"."d"."t"`; elsewhere (aliases, columns, one part of a dotted name) a backticked name
 * with dots is one name, as in GoogleSQL.
 */
function splitPath(parts: Token[]): Token[] {
  const only = parts[0]
  if (parts.length !== 1 || only?.kind !== 'quoted' || !only.value.includes('.')) return parts
  return only.value
    .split('.')
    .map((part) => ({ kind: 'quoted', text: duckIdent(part), value: part }))
}

/**
 * Table references: `project.dataset.table` -> `dataset.table`; a bare `table` that is not a CTE is
 * qualified with the default dataset, or rejected as BigQuery does.
 * `CREATE/DROP SCHEMA project.dataset` -> `dataset`.
 */
function qualifyTables(
  tokens: Token[],
  defaultDataset: string | undefined,
  tables: string[],
): Token[] {
  const name = (p: Token[]): string =>
    p.map((x) => (x.kind === 'quoted' ? x.value : x.text)).join('.')
  return rewriteTableReferences(tokens, {
    table: (written, start, isCte) => {
      const parts = isCte ? written : splitPath(written)
      if (parts.length === 3) {
        tables.push(name(parts.slice(1)))
        return parts.slice(1)
      }
      if (parts.length === 2) tables.push(name(parts))
      if (parts.length === 1 && !isCte) {
        if (defaultDataset !== undefined) {
          tables.push(`${defaultDataset}.${name(parts)}`)
          return [
            { kind: 'quoted', text: duckIdent(defaultDataset), value: defaultDataset },
            ...parts,
          ]
        }
        reject(
          tokens,
          start,
          'qualification',
          `Table "${name(parts)}" must be qualified with a dataset (e.g. dataset.table).`,
        )
      }
      return parts
    },
    schema: (written) => {
      const parts = splitPath(written)
      return parts.length === 2 ? parts.slice(1) : parts
    },
  })
}

/** GoogleSQL type names -> DuckDB ones wherever a type is expected (see `rewriteTypeNames`). */
/** Index after `ARRAY < T >` starting at `i` (a scalar element type), or -1. */
function arrayTypeEnd(tokens: readonly Token[], i: number): { end: number; element: string } | -1 {
  if (!isWord(tokens[i], 'ARRAY')) return -1
  const lt = nextSig(tokens, i + 1)
  if (tokens[lt]?.text !== '<') return -1
  const el = nextSig(tokens, lt + 1)
  const gt = nextSig(tokens, el + 1)
  if (tokens[el]?.kind !== 'word' || tokens[gt]?.text !== '>') return -1
  return { end: gt, element: tokens[el]!.value }
}

/** `ARRAY<T>` (a scalar element type) -> DuckDB `T[]`. */
function arrayTypes(tokens: Token[]): Token[] {
  const out: Token[] = []
  for (let i = 0; i < tokens.length; i++) {
    const found = arrayTypeEnd(tokens, i)
    if (found === -1) {
      out.push(tokens[i]!)
      continue
    }
    const duck = TYPE_NAMES[found.element] ?? PARAM_TYPES[found.element]
    if (!duck) reject(tokens, i, 'syntax', `Syntax error: unknown type ${found.element}`)
    out.push(rawToken(`${duck}[]`, 'word'))
    i = found.end
  }
  return out
}

function bigQueryTypes(tokens: Token[]): Token[] {
  return rewriteTypeNames(tokens, (word, hasArgs) => {
    const duck = TYPE_NAMES[word]
    if (!duck) return undefined
    return { text: hasArgs ? duck.replace(/\(.*\)$/, '') : duck, dropArgs: false }
  })
}

/** `INTERVAL <expr> unit` -> `INTERVAL (<expr>) unit` (DuckDB needs parentheses around expressions). */
function parenthesizeIntervals(tokens: Token[]): Token[] {
  const out: Token[] = []
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!
    out.push(t)
    if (!isWord(t, 'INTERVAL')) continue
    const first = nextSig(tokens, i + 1)
    if (first < 0 || tokens[first]!.kind === 'string') continue
    let depth = 0
    let j = first
    for (; j < tokens.length; j++) {
      const u = tokens[j]!
      if (u.kind === 'lparen') depth++
      else if (u.kind === 'rparen') depth--
      else if (depth === 0 && u.kind === 'word' && INTERVAL_UNITS.has(u.value) && j > first) break
      if (depth < 0) break
    }
    const unit = tokens[j]
    if (unit?.kind !== 'word' || !INTERVAL_UNITS.has(unit.value)) {
      reject(tokens, i, 'syntax', 'Syntax error: INTERVAL needs a date part (e.g. INTERVAL 1 HOUR)')
    }
    out.push(rawToken(' ('), ...tokens.slice(first, j), rawToken(') '), unit!)
    i = j
  }
  return out
}

/** `@name` / `?` -> `CAST($name AS type)` with the request's parameter types and values. */
function bindParameters(
  tokens: Token[],
  options: TranslateOptions,
): { tokens: Token[]; params: Record<string, string | null> } {
  const list = options.queryParameters ?? []
  const params: Record<string, string | null> = {}
  let positional = 0
  const byName = new Map(list.filter((p) => p.name).map((p) => [p.name!.toLowerCase(), p]))
  let sawNamed = false
  let sawPositional = false
  const out = tokens.map((t, i) => {
    if (t.kind !== 'param') return t
    let p: BigQueryParameter | undefined
    let key: string
    if (t.value === '') {
      sawPositional = true
      p = list[positional]
      key = `p${++positional}`
      if (!p) reject(tokens, i, 'parameter', `Query parameter ${positional} not found`)
    } else {
      sawNamed = true
      p = byName.get(t.value.toLowerCase())
      key = `n_${t.value.toLowerCase()}`
      if (!p) reject(tokens, i, 'parameter', `Query parameter '${t.value}' not found`)
    }
    if (sawNamed && sawPositional) {
      reject(tokens, i, 'parameter', 'Cannot mix named and positional query parameters')
    }
    const { type, value } = parameterToDuck(p!)
    params[key] = value
    return rawToken(`CAST($${key} AS ${type})`, 'param')
  })
  if (sawPositional && positional < list.length) {
    throw new SqlRejection(
      'parameter',
      `Positional parameters: ${list.length} given, ${positional} used`,
    )
  }
  return { tokens: out, params }
}

function parameterToDuck(p: BigQueryParameter): { type: string; value: string | null } {
  const type = p.parameterType.type.toUpperCase()
  if (type === 'ARRAY') {
    const element = (p.parameterType.arrayType?.type ?? 'STRING').toUpperCase()
    const duck = PARAM_TYPES[element]
    if (!duck)
      throw new SqlRejection('parameter', `Unsupported query parameter type ARRAY<${element}>`)
    const items = (p.parameterValue.arrayValues ?? []).map((v) =>
      v.value === null || v.value === undefined ? 'NULL' : duckString(String(v.value)),
    )
    return { type: `${duck}[]`, value: `[${items.join(', ')}]` }
  }
  const duck = PARAM_TYPES[type]
  if (!duck) throw new SqlRejection('parameter', `Unsupported query parameter type ${type}`)
  const raw = p.parameterValue.value
  let value = raw === null || raw === undefined ? null : String(raw)
  if (value !== null && type === 'BYTES') value = Buffer.from(value, 'base64').toString('latin1')
  return { type: duck, value }
}

/**
 * `x IN UNNEST(arr)` -> `x IN (SELECT UNNEST(arr))`; `FROM UNNEST(arr) [AS] a` ->
 * `FROM UNNEST(arr) AS a(a)` so that `a` names the element, as in BigQuery.
 */
function rewriteUnnest(tokens: Token[]): Token[] {
  const out: Token[] = []
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!
    if (!isWord(t, 'UNNEST')) {
      out.push(t)
      continue
    }
    const open = nextSig(tokens, i + 1)
    if (open < 0 || tokens[open]!.kind !== 'lparen') {
      out.push(t)
      continue
    }
    const close = matchingParen(tokens, open)
    const call = tokens.slice(i, close + 1)
    const prev = tokens[prevSig(tokens, i - 1)]
    if (isWord(prev, 'IN')) {
      out.push(rawToken('(SELECT '), ...call, rawToken(')'))
      i = close
      continue
    }
    out.push(...call)
    i = close
    if (!isWord(prev, 'FROM', 'JOIN') && prev?.kind !== 'comma') continue
    let a = nextSig(tokens, close + 1)
    if (isWord(tokens[a], 'AS')) a = nextSig(tokens, a + 1)
    const alias = tokens[a]
    const reserved = [
      'WHERE',
      'GROUP',
      'ORDER',
      'LIMIT',
      'ON',
      'JOIN',
      'LEFT',
      'INNER',
      'CROSS',
      'WITH',
      'UNION',
    ]
    if (
      alias &&
      (alias.kind === 'quoted' || (alias.kind === 'word' && !reserved.includes(alias.value)))
    ) {
      out.push(rawToken(' AS '), alias, rawToken('('), alias, rawToken(')'))
      i = a
    }
  }
  return out
}

/** `SELECT * EXCEPT (a, b)` -> `SELECT * EXCLUDE (a, b)` (DuckDB reads EXCEPT as the set operator). */
function starExcept(tokens: Token[]): Token[] {
  return tokens.map((t, i) => {
    if (!isWord(t, 'EXCEPT')) return t
    const prev = tokens[prevSig(tokens, i - 1)]
    const next = tokens[nextSig(tokens, i + 1)]
    return prev?.text === '*' && next?.kind === 'lparen' ? { ...t, text: 'EXCLUDE' } : t
  })
}
