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
  isWord,
  NON_FUNCTION_WORDS,
  nextSig,
  parseWithWorkarounds,
  positionOf,
  removeWordSequence,
  replaceWords,
  rewriteCalls,
  rewriteTableReferences,
  rewriteTypeNames,
  SqlRejection,
  splitStatements,
} from '../warehouse/sql.js'

/** Snowflake lexical rules. */
export const SNOWFLAKE_LEXER: LexerDialect = {
  identQuote: '"',
  doubleQuotedStrings: false,
  backslashEscapes: true,
  atParams: false,
  colonParams: true,
  hashComments: false,
  slashSlashComments: true,
}

/** A bind as snowflake-sdk sends it (`bindings["1"]`). */
export interface SnowflakeBind {
  type: string
  value: string | null | Array<string | null>
}

/** What a statement does, for the emulator's session handling and result shaping. */
export type SnowflakeStatementKind =
  | 'select'
  | 'insert'
  | 'update'
  | 'delete'
  | 'ddl'
  | 'use'
  | 'noop'

/** Result of translating one Snowflake statement. */
export interface TranslatedSnowflake {
  kind: SnowflakeStatementKind
  /** DuckDB SQL (empty for `use` / `noop`). */
  sql: string
  /** Positional DuckDB parameter values (`$1`, `$2`, ...); one array per row for array binds. */
  params: Array<Array<string | null>>
  /** For `USE SCHEMA x` / `USE DATABASE x`: what to switch. */
  use?: { what: 'schema' | 'database' | 'warehouse' | 'role'; name: string }
  /** Object names the statement references, as `SCHEMA.TABLE` (for error messages). */
  tables: string[]
  /** Message for DDL status rows (`Table T successfully created.`). */
  status?: string
}

/** Session context a statement is translated in. */
export interface SnowflakeContext {
  database: string
  schema: string
  bindings?: Record<string, SnowflakeBind>
}

/** Snowflake type names -> DuckDB types (NUMBER(p,s) keeps its arguments). */
const TYPE_NAMES: Record<string, string> = {
  NUMBER: 'DECIMAL(38,0)',
  NUMERIC: 'DECIMAL(38,0)',
  DECIMAL: 'DECIMAL(38,0)',
  INT: 'BIGINT',
  INTEGER: 'BIGINT',
  BIGINT: 'BIGINT',
  SMALLINT: 'BIGINT',
  TINYINT: 'BIGINT',
  BYTEINT: 'BIGINT',
  FLOAT: 'DOUBLE',
  FLOAT4: 'DOUBLE',
  FLOAT8: 'DOUBLE',
  DOUBLE: 'DOUBLE',
  REAL: 'DOUBLE',
  VARCHAR: 'VARCHAR',
  STRING: 'VARCHAR',
  TEXT: 'VARCHAR',
  CHAR: 'VARCHAR',
  CHARACTER: 'VARCHAR',
  NCHAR: 'VARCHAR',
  NVARCHAR: 'VARCHAR',
  BOOLEAN: 'BOOLEAN',
  DATE: 'DATE',
  TIME: 'TIME',
  DATETIME: 'TIMESTAMP',
  TIMESTAMP: 'TIMESTAMP',
  TIMESTAMP_NTZ: 'TIMESTAMP',
  TIMESTAMP_LTZ: 'TIMESTAMPTZ',
  TIMESTAMP_TZ: 'TIMESTAMPTZ',
  BINARY: 'BLOB',
  VARBINARY: 'BLOB',
}

const UNSUPPORTED_TYPES = new Set(['VARIANT', 'OBJECT', 'ARRAY', 'GEOGRAPHY', 'GEOMETRY', 'VECTOR'])

/** Date/time parts and their Snowflake abbreviations -> DuckDB part names. */
const DATE_PARTS: Record<string, string> = {
  YEAR: 'year',
  YEARS: 'year',
  Y: 'year',
  YY: 'year',
  YYYY: 'year',
  YR: 'year',
  YRS: 'year',
  QUARTER: 'quarter',
  QUARTERS: 'quarter',
  Q: 'quarter',
  MONTH: 'month',
  MONTHS: 'month',
  MM: 'month',
  MON: 'month',
  MONS: 'month',
  WEEK: 'week',
  WEEKS: 'week',
  W: 'week',
  WK: 'week',
  DAY: 'day',
  DAYS: 'day',
  D: 'day',
  DD: 'day',
  HOUR: 'hour',
  HOURS: 'hour',
  H: 'hour',
  HH: 'hour',
  HR: 'hour',
  HRS: 'hour',
  MINUTE: 'minute',
  MINUTES: 'minute',
  MI: 'minute',
  MIN: 'minute',
  MINS: 'minute',
  SECOND: 'second',
  SECONDS: 'second',
  S: 'second',
  SEC: 'second',
  SECS: 'second',
  MILLISECOND: 'millisecond',
  MILLISECONDS: 'millisecond',
  MS: 'millisecond',
  MICROSECOND: 'microsecond',
  MICROSECONDS: 'microsecond',
  US: 'microsecond',
}

/** Snowflake statements the emulator does not run (reported as unsupported, not as syntax errors). */
const VALID_BUT_UNSUPPORTED = [
  'MERGE',
  'COPY',
  'PUT',
  'GET',
  'CALL',
  'EXECUTE',
  'SHOW',
  'DESCRIBE',
  'DESC',
  'GRANT',
  'REVOKE',
  'SET',
  'UNSET',
  'LIST',
  'REMOVE',
  'UNDROP',
]

/** Words that may precede `(` without being a function call. */
const NON_FUNCTIONS = new Set([
  ...NON_FUNCTION_WORDS,
  'MINUS',
  'WITHIN',
  ...Object.keys(TYPE_NAMES),
])

const SAME_FUNCTIONS = [
  'COUNT',
  'SUM',
  'AVG',
  'MIN',
  'MAX',
  'ANY_VALUE',
  'MEDIAN',
  'STDDEV',
  'STDDEV_POP',
  'STDDEV_SAMP',
  'VARIANCE',
  'VAR_POP',
  'VAR_SAMP',
  'COUNT_IF',
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
  'MOD',
  'SQRT',
  'POWER',
  'POW',
  'LN',
  'EXP',
  'SIGN',
  'GREATEST',
  'LEAST',
  'COALESCE',
  'NULLIF',
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
  'CONTAINS',
  'REVERSE',
  'CAST',
  'TRY_CAST',
  'EXTRACT',
  'YEAR',
  'MONTH',
  'DAY',
  'HOUR',
  'MINUTE',
  'SECOND',
]

function arg(args: string[], i: number): string {
  const a = args[i]
  if (a === undefined)
    throw new SqlRejection('syntax', `SQL compilation error:\nmissing argument ${i + 1}`)
  return a
}

function datePart(text: string | undefined): string {
  const raw = (text ?? '')
    .trim()
    .replace(/^'(.*)'$/, '$1')
    .toUpperCase()
  const part = DATE_PARTS[raw]
  if (!part)
    throw new SqlRejection(
      'syntax',
      `SQL compilation error:\ninvalid date/time part '${text ?? ''}'`,
    )
  return part
}

const REWRITTEN_FUNCTIONS: Record<string, CallRewriter> = {
  DATEADD: (a) => `(${arg(a, 2)} + INTERVAL (${arg(a, 1)}) ${datePart(a[0])})`,
  TIMESTAMPADD: (a) => `(${arg(a, 2)} + INTERVAL (${arg(a, 1)}) ${datePart(a[0])})`,
  DATEDIFF: (a) => `date_diff('${datePart(a[0])}', ${arg(a, 1)}, ${arg(a, 2)})`,
  TIMESTAMPDIFF: (a) => `date_diff('${datePart(a[0])}', ${arg(a, 1)}, ${arg(a, 2)})`,
  DATE_TRUNC: (a) => `date_trunc('${datePart(a[0])}', ${arg(a, 1)})`,
  DATE_PART: (a) => `date_part('${datePart(a[0])}', ${arg(a, 1)})`,
  IFF: (a) => `(CASE WHEN ${arg(a, 0)} THEN ${arg(a, 1)} ELSE ${arg(a, 2)} END)`,
  NVL: (a) => `COALESCE(${arg(a, 0)}, ${arg(a, 1)})`,
  IFNULL: (a) => `COALESCE(${arg(a, 0)}, ${arg(a, 1)})`,
  NVL2: (a) => `(CASE WHEN ${arg(a, 0)} IS NOT NULL THEN ${arg(a, 1)} ELSE ${arg(a, 2)} END)`,
  ZEROIFNULL: (a) => `COALESCE(${arg(a, 0)}, 0)`,
  DIV0: (a) => `(CASE WHEN (${arg(a, 1)}) = 0 THEN 0 ELSE (${arg(a, 0)}) / (${arg(a, 1)}) END)`,
  TO_TIMESTAMP: (a) => `CAST(${single(a, 'TO_TIMESTAMP')} AS TIMESTAMP)`,
  TO_TIMESTAMP_NTZ: (a) => `CAST(${single(a, 'TO_TIMESTAMP_NTZ')} AS TIMESTAMP)`,
  TO_TIMESTAMP_LTZ: (a) => `CAST(${single(a, 'TO_TIMESTAMP_LTZ')} AS TIMESTAMPTZ)`,
  TO_TIMESTAMP_TZ: (a) => `CAST(${single(a, 'TO_TIMESTAMP_TZ')} AS TIMESTAMPTZ)`,
  TO_DATE: (a) => `CAST(${single(a, 'TO_DATE')} AS DATE)`,
  TO_VARCHAR: (a) => `CAST(${single(a, 'TO_VARCHAR')} AS VARCHAR)`,
  TO_CHAR: (a) => `CAST(${single(a, 'TO_CHAR')} AS VARCHAR)`,
  TO_DOUBLE: (a) => `CAST(${single(a, 'TO_DOUBLE')} AS DOUBLE)`,
  TO_BOOLEAN: (a) => `CAST(${single(a, 'TO_BOOLEAN')} AS BOOLEAN)`,
  TO_NUMBER: (a) => `CAST(${single(a, 'TO_NUMBER')} AS DECIMAL(38,0))`,
  CURRENT_TIMESTAMP: () => 'CURRENT_TIMESTAMP',
  SYSDATE: () => "CAST(timezone('UTC', CURRENT_TIMESTAMP) AS TIMESTAMP)",
  CURRENT_DATE: () => 'CURRENT_DATE',
  LEN: (a) => `length(${arg(a, 0)})`,
  STARTSWITH: (a) => `starts_with(${arg(a, 0)}, ${arg(a, 1)})`,
  ENDSWITH: (a) => `ends_with(${arg(a, 0)}, ${arg(a, 1)})`,
  LISTAGG: (a) => `string_agg(${arg(a, 0)}, ${a[1] ?? "''"})`,
  BOOLAND_AGG: (a) => `bool_and(${arg(a, 0)})`,
  BOOLOR_AGG: (a) => `bool_or(${arg(a, 0)})`,
  TABLE: (a) => arg(a, 0),
  SEQ4: () => '(ROW_NUMBER() OVER () - 1)',
  SEQ8: () => '(ROW_NUMBER() OVER () - 1)',
  GENERATOR: (_a, t) => {
    const sig = (t[0] ?? []).filter(isSignificant)
    if (!isWord(sig[0], 'ROWCOUNT') || sig[1]?.text !== '=>' || sig.length !== 3) {
      throw new SqlRejection(
        'unsupported',
        'GENERATOR is supported as GENERATOR(ROWCOUNT => n) only',
      )
    }
    return `range(${sig[2]!.text})`
  },
}

function single(args: string[], name: string): string {
  if (args.length !== 1) {
    throw new SqlRejection(
      'unsupported',
      `${name} with a format or scale argument is not supported by the emulator`,
    )
  }
  return args[0]!
}

/** Every function name the emulator accepts. */
export const SUPPORTED_FUNCTIONS: ReadonlySet<string> = new Set([
  ...SAME_FUNCTIONS,
  ...Object.keys(REWRITTEN_FUNCTIONS),
])

function reject(
  tokens: readonly Token[],
  index: number,
  kind: SqlRejection['kind'],
  message: string,
): never {
  const { line, column } = positionOf(tokens, index)
  throw new SqlRejection(kind, message, line, column)
}

function syntaxError(tokens: readonly Token[], index: number, found: string): never {
  const { line, column } = positionOf(tokens, index)
  throw new SqlRejection(
    'syntax',
    `SQL compilation error:\nsyntax error line ${line} at position ${column - 1} unexpected '${found}'.`,
    line,
    column,
  )
}

/**
 * Validates one Snowflake statement and translates it into DuckDB SQL, following the rules listed
 * in this folder's README. Throws {@link SqlRejection} for anything Snowflake would reject or the
 * emulator does not support.
 */
export function translateSnowflake(
  sqlText: string,
  context: SnowflakeContext,
): TranslatedSnowflake {
  let all: Token[]
  try {
    all = tokenize(sqlText, SNOWFLAKE_LEXER)
  } catch (err) {
    if (err instanceof SqlLexError) {
      throw new SqlRejection('syntax', `SQL compilation error:\nsyntax error: ${err.message}`)
    }
    throw err
  }
  const statements = splitStatements(all)
  if (statements.length === 0) {
    throw new SqlRejection('syntax', 'SQL compilation error:\nEmpty SQL statement.')
  }
  if (statements.length > 1) {
    throw new SqlRejection(
      'unsupported',
      `Actual statement count ${statements.length} did not match the desired statement count 1.`,
    )
  }
  const tokens = statements[0]!
  const sig = tokens.filter(isSignificant)
  const w = (i: number): string => (sig[i]?.kind === 'word' ? sig[i]!.value : '')
  const nameOf = (t: Token | undefined): string =>
    t?.kind === 'quoted' ? t.value : (t?.value ?? '')

  // Session statements the parser does not know, handled by the emulator itself.
  if (w(0) === 'USE') {
    const what = ['SCHEMA', 'DATABASE', 'WAREHOUSE', 'ROLE'].includes(w(1)) ? w(1) : 'SCHEMA'
    const nameTokens = sig.slice(what === w(1) ? 2 : 1)
    const parts = nameTokens.filter((t) => t.kind === 'word' || t.kind === 'quoted').map(nameOf)
    if (parts.length === 0) syntaxError(tokens, tokens.length, '<EOF>')
    return {
      kind: 'use',
      sql: '',
      params: [],
      tables: [],
      use: { what: what.toLowerCase() as 'schema', name: parts.join('.') },
    }
  }
  if (['BEGIN', 'COMMIT', 'ROLLBACK'].includes(w(0)) || (w(0) === 'ALTER' && w(1) === 'SESSION')) {
    return {
      kind: 'noop',
      sql: '',
      params: [],
      tables: [],
      status: 'Statement executed successfully.',
    }
  }
  if (VALID_BUT_UNSUPPORTED.includes(w(0))) {
    throw new SqlRejection(
      'unsupported',
      `Unsupported feature: ${w(0)} statements are not supported by the emulator`,
    )
  }
  if ((w(0) === 'CREATE' || w(0) === 'DROP') && w(1) === 'DATABASE') {
    return {
      kind: 'noop',
      sql: '',
      params: [],
      tables: [],
      status: 'Statement executed successfully.',
    }
  }

  for (const t of sig) {
    if (t.kind === 'word' && UNSUPPORTED_TYPES.has(t.value)) {
      const i = tokens.indexOf(t)
      const next = tokens[nextSig(tokens, i + 1)]
      const prev = sig[sig.indexOf(t) - 1]
      const typeLike =
        (prev?.kind === 'op' && prev.text === '::') || isWord(prev, 'AS') || prev?.kind === 'word'
      if (typeLike && next?.kind !== 'lparen') {
        reject(
          tokens,
          i,
          'unsupported',
          `Unsupported feature: type ${t.value} is not supported by the emulator`,
        )
      }
    }
  }
  validateSyntax(tokens)
  const kind = statementKind(w)
  for (const { name, index } of calledFunctions(tokens, NON_FUNCTIONS)) {
    if (!SUPPORTED_FUNCTIONS.has(name)) {
      reject(tokens, index, 'function', `SQL compilation error:\nUnknown function ${name}`)
    }
  }

  // Unquoted identifiers fold to upper case, as Snowflake resolves them.
  let out = tokens.map((t) => (t.kind === 'word' ? { ...t, text: t.value } : t))
  out = out.map((t) => (t.kind === 'string' ? rawToken(duckString(t.value), 'string') : t))
  out = out.map((t) => (t.kind === 'quoted' ? { ...t, text: duckIdent(t.value) } : t))
  const tables: string[] = []
  const schemaToken = (name: string): Token => ({
    kind: 'quoted',
    text: duckIdent(name),
    value: name,
  })
  out = rewriteTableReferences(out, {
    table: (parts, _start, isCte) => {
      if (parts.length === 3) parts = parts.slice(1)
      if (parts.length === 1 && !isCte) parts = [schemaToken(context.schema), ...parts]
      if (!isCte) tables.push(parts.map(nameOf).join('.'))
      return parts
    },
    schema: (parts) => (parts.length === 2 ? parts.slice(1) : parts),
  })
  out = rewriteTypeNames(out, (word, hasArgs) => {
    const duck = TYPE_NAMES[word]
    if (!duck) return undefined
    const keepsArgs = ['NUMBER', 'NUMERIC', 'DECIMAL'].includes(word)
    if (hasArgs && keepsArgs) return { text: 'DECIMAL', dropArgs: false }
    return { text: duck, dropArgs: hasArgs }
  })
  const { tokens: withParams, params } = bindParameters(out, context.bindings ?? {})
  out = rewriteCalls(withParams, REWRITTEN_FUNCTIONS)
  // MINUS is Snowflake's name for EXCEPT.
  out = out.map((t) => (isWord(t, 'MINUS') ? rawToken('EXCEPT', 'word') : t))
  const status = ddlStatus(sig, kind)
  return { kind, sql: detokenize(out), params, tables, ...(status ? { status } : {}) }
}

/**
 * Valid Snowflake SQL that node-sql-parser 5.4's Snowflake grammar rejects. Each rewrite only
 * touches the copy handed to the parser; DuckDB receives the translated original.
 */
export const PARSER_WORKAROUNDS: readonly ParserWorkaround[] = [
  {
    gap: 'TIMESTAMP_LTZ type name (checked as TIMESTAMP_TZ)',
    apply: (t) => replaceWords(t, { TIMESTAMP_LTZ: 'TIMESTAMP_TZ' }),
  },
  {
    gap: 'MINUS / EXCEPT set operators (checked as UNION)',
    apply: (t) => replaceWords(t, { MINUS: 'UNION', EXCEPT: 'UNION' }),
  },
  {
    gap: 'DELETE FROM t [WHERE c] (checked as SELECT * FROM t [WHERE c])',
    apply: (tokens) => {
      const d = nextSig(tokens, 0)
      if (!isWord(tokens[d], 'DELETE')) return undefined
      return [rawToken('SELECT * '), ...tokens.slice(d + 1)]
    },
  },
  {
    gap: 'DROP ... IF EXISTS (checked without IF EXISTS)',
    apply: (tokens) =>
      isWord(tokens[nextSig(tokens, 0)], 'DROP')
        ? removeWordSequence(tokens, ['IF', 'EXISTS'])
        : undefined,
  },
]

/** Runs node-sql-parser's Snowflake grammar over the statement, working around its known gaps. */
function validateSyntax(tokens: readonly Token[]): void {
  // Gap: the grammar has no `?` placeholders; check the statement with `:n` ones instead.
  // Gap: the grammar rejects valid quoted names and strings (`""` or a dot inside a quoted
  // name, some escaped strings); the parse sees neutral ones (translation keeps the caller's).
  let n = 0
  const forParser = tokens.map((t) => {
    if (t.kind === 'param' && t.value === '') return rawToken(`:${++n}`)
    if (t.kind === 'quoted') return rawToken('"Q"', 'quoted')
    if (t.kind === 'string') return rawToken("'s'", 'string')
    return t
  })
  const outcome = parseWithWorkarounds(forParser, 'snowflake', PARSER_WORKAROUNDS)
  if (outcome.ok) return
  const { line, column } = outcome
  const found = outcome.found ?? '<EOF>'
  throw new SqlRejection(
    'syntax',
    `SQL compilation error:\nsyntax error line ${line} at position ${column - 1} unexpected '${found}'.`,
    line,
    column,
  )
}

function statementKind(w: (i: number) => string): SnowflakeStatementKind {
  switch (w(0)) {
    case 'SELECT':
    case 'WITH':
      return 'select'
    case 'INSERT':
      return 'insert'
    case 'UPDATE':
      return 'update'
    case 'DELETE':
      return 'delete'
    case 'CREATE':
    case 'DROP':
    case 'TRUNCATE':
    case 'ALTER':
      return 'ddl'
    default:
      throw new SqlRejection(
        'unsupported',
        `Unsupported feature: statement ${w(0) || '(unknown)'} is not supported by the emulator (supported: SELECT/WITH, INSERT, UPDATE, DELETE, CREATE/DROP/TRUNCATE, USE, BEGIN/COMMIT/ROLLBACK)`,
      )
  }
}

function ddlStatus(sig: readonly Token[], kind: SnowflakeStatementKind): string | undefined {
  if (kind !== 'ddl') return undefined
  const words = sig.filter((t) => t.kind === 'word').map((t) => t.value)
  const object = ['TABLE', 'VIEW', 'SCHEMA'].find((o) => words.includes(o)) ?? 'Statement'
  const verb = sig[0]?.value === 'DROP' ? 'dropped' : 'created'
  if (object === 'Statement' || sig[0]?.value === 'TRUNCATE' || sig[0]?.value === 'ALTER') {
    return 'Statement executed successfully.'
  }
  const idx = sig.findIndex((t) => t.kind === 'word' && t.value === object)
  let j = idx + 1
  while (isWord(sig[j], 'IF', 'NOT', 'EXISTS')) j++
  while (sig[j + 1]?.kind === 'dot' && sig[j + 2]) j += 2
  const name = sig[j]?.kind === 'quoted' ? sig[j]!.value : (sig[j]?.value ?? '')
  const label = object.charAt(0) + object.slice(1).toLowerCase()
  return `${label} ${name} successfully ${verb}.`
}

/**
 * `?` -> `$k` in order, `:n` -> `$n`. FIXED/REAL/BOOLEAN binds are cast to BIGINT/DOUBLE/BOOLEAN;
 * TEXT (and the ISO strings the SDK sends for Date binds) stay untyped so DuckDB converts them
 * where they are used, like Snowflake's implicit conversion of string binds.
 */
function bindParameters(
  tokens: Token[],
  bindings: Record<string, SnowflakeBind>,
): { tokens: Token[]; params: Array<Array<string | null>> } {
  let positional = 0
  let maxIndex = 0
  const out = tokens.map((t, i) => {
    if (t.kind !== 'param') return t
    const index = t.value === '' ? ++positional : Number(t.value)
    if (!Number.isInteger(index) || index < 1) {
      reject(
        tokens,
        i,
        'parameter',
        `SQL compilation error:\nunsupported bind variable :${t.value}`,
      )
    }
    const bind = bindings[String(index)]
    if (!bind) {
      reject(
        tokens,
        i,
        'parameter',
        'SQL compilation error:\nBind variable ? not set.'.replace('?', t.text),
      )
    }
    maxIndex = Math.max(maxIndex, index)
    const cast = { FIXED: 'BIGINT', REAL: 'DOUBLE', BOOLEAN: 'BOOLEAN' }[bind!.type.toUpperCase()]
    return rawToken(cast ? `CAST($${index} AS ${cast})` : `$${index}`, 'param')
  })
  const count = Math.max(maxIndex, 0)
  const values = Array.from({ length: count }, (_, k) => bindings[String(k + 1)]?.value ?? null)
  const rows = values.some(Array.isArray)
    ? Array.from(
        { length: Math.max(...values.map((v) => (Array.isArray(v) ? v.length : 1))) },
        (_, r) => values.map((v) => (Array.isArray(v) ? (v[r] ?? null) : v)),
      )
    : [values as Array<string | null>]
  return { tokens: out, params: rows }
}
