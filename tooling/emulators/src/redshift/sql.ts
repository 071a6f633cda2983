/**
 * Redshift dialect handling for the Redshift Data API emulator: a small lexer, the parser gate
 * (node-sql-parser, `redshift` grammar), a deny-list of PostgreSQL-only constructs that Redshift
 * rejects, and the mechanical Redshift -> PostgreSQL rewrites listed in README.md.
 *
 * The SQL that PostgreSQL runs is the caller's text with only the documented rewrites applied
 * (token by token), never a re-printed AST, so identifiers, literals and formatting survive.
 */
import nodeSqlParser from 'node-sql-parser'

const { Parser } = nodeSqlParser

/** Thrown when a statement is outside what Redshift (or the emulator's subset) accepts. */
export class SqlRejectedError extends Error {
  override name = 'SqlRejectedError'
}

type TokenKind =
  | 'ws'
  | 'comment'
  | 'string'
  | 'qident'
  | 'ident'
  | 'number'
  | 'param'
  | 'op'
  | 'lparen'
  | 'rparen'
  | 'comma'
  | 'semicolon'

interface Token {
  kind: TokenKind
  text: string
  /** Upper-cased text for `ident`, otherwise the text. */
  upper: string
}

const MULTI_CHAR_OPS = [
  '->>',
  '#>>',
  '::',
  '->',
  '#>',
  '<=',
  '>=',
  '<>',
  '!=',
  '||',
  '@>',
  '<@',
  '?|',
  '?&',
]

/** Splits SQL into tokens; concatenating every token's text gives the input back. */
export function tokenize(sql: string): Token[] {
  const out: Token[] = []
  const push = (kind: TokenKind, text: string) =>
    out.push({ kind, text, upper: kind === 'ident' ? text.toUpperCase() : text })
  let i = 0
  const n = sql.length
  while (i < n) {
    const c = sql[i]!
    const next = sql[i + 1]
    if (/\s/.test(c)) {
      let j = i + 1
      while (j < n && /\s/.test(sql[j]!)) j++
      push('ws', sql.slice(i, j))
      i = j
    } else if (c === '-' && next === '-') {
      let j = sql.indexOf('\n', i)
      if (j < 0) j = n
      push('comment', sql.slice(i, j))
      i = j
    } else if (c === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2)
      if (end < 0) throw new SqlRejectedError('ERROR: unterminated /* comment')
      push('comment', sql.slice(i, end + 2))
      i = end + 2
    } else if (c === "'" || c === '"') {
      let j = i + 1
      for (;;) {
        if (j >= n) {
          const what = c === "'" ? 'quoted string' : 'quoted identifier'
          throw new SqlRejectedError(
            `ERROR: unterminated ${what} at or near ${sql.slice(i, i + 20)}`,
          )
        }
        // Redshift string literals take backslash escapes (QUOTE_LITERAL doubles backslashes):
        // the character after a backslash never ends the string.
        if (c === "'" && sql[j] === '\\') {
          j += 2
          continue
        }
        if (sql[j] === c) {
          if (sql[j + 1] === c) {
            j += 2
            continue
          }
          break
        }
        j++
      }
      push(c === "'" ? 'string' : 'qident', sql.slice(i, j + 1))
      i = j + 1
    } else if (/[A-Za-z_\u0080-\uffff]/.test(c)) {
      let j = i + 1
      while (j < n && /[A-Za-z0-9_$\u0080-\uffff]/.test(sql[j]!)) j++
      push('ident', sql.slice(i, j))
      i = j
    } else if (/[0-9]/.test(c) || (c === '.' && next !== undefined && /[0-9]/.test(next))) {
      const m = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(sql.slice(i))
      const text = m ? m[0] : c
      push('number', text)
      i += text.length
    } else if (c === ':' && next !== ':' && sql[i - 1] !== ':' && next && /[A-Za-z_]/.test(next)) {
      let j = i + 1
      while (j < n && /[A-Za-z0-9_]/.test(sql[j]!)) j++
      push('param', sql.slice(i, j))
      i = j
    } else if (c === '(') {
      push('lparen', c)
      i++
    } else if (c === ')') {
      push('rparen', c)
      i++
    } else if (c === ',') {
      push('comma', c)
      i++
    } else if (c === ';') {
      push('semicolon', c)
      i++
    } else {
      const op = MULTI_CHAR_OPS.find((o) => sql.startsWith(o, i)) ?? c
      push('op', op)
      i += op.length
    }
  }
  return out
}

const isTrivia = (t: Token | undefined) =>
  t !== undefined && (t.kind === 'ws' || t.kind === 'comment')

/** Index of the next non-whitespace, non-comment token at or after `i` (or `tokens.length`). */
function nextSignificant(tokens: Token[], i: number): number {
  let j = i
  while (j < tokens.length && isTrivia(tokens[j])) j++
  return j
}

/** Index of the `)` matching the `(` at `open`. */
function matchingParen(tokens: Token[], open: number): number {
  let depth = 0
  for (let j = open; j < tokens.length; j++) {
    const k = tokens[j]!.kind
    if (k === 'lparen') depth++
    else if (k === 'rparen') {
      depth--
      if (depth === 0) return j
    }
  }
  throw new SqlRejectedError('ERROR: syntax error: unbalanced parentheses')
}

/** Splits the tokens strictly between `open` and its matching `close` at top-level commas. */
function splitArgs(tokens: Token[], open: number, close: number): Token[][] {
  const args: Token[][] = []
  let current: Token[] = []
  let depth = 0
  for (let j = open + 1; j < close; j++) {
    const t = tokens[j]!
    if (t.kind === 'lparen') depth++
    if (t.kind === 'rparen') depth--
    if (t.kind === 'comma' && depth === 0) {
      args.push(current)
      current = []
    } else current.push(t)
  }
  if (current.some((t) => !isTrivia(t)) || args.length > 0) args.push(current)
  return args
}

const significant = (tokens: Token[]) => tokens.filter((t) => !isTrivia(t))

/** Redshift date parts (with their documented abbreviations) -> PostgreSQL unit. */
const DATE_PARTS: Record<string, string> = {}
for (const [unit, names] of Object.entries({
  millennium: ['millennium', 'millennia', 'mil', 'mils'],
  century: ['century', 'centuries', 'c', 'cent', 'cents'],
  decade: ['decade', 'decades', 'dec', 'decs'],
  year: ['year', 'years', 'y', 'yr', 'yrs'],
  quarter: ['quarter', 'quarters', 'qtr', 'qtrs'],
  month: ['month', 'months', 'mon', 'mons'],
  week: ['week', 'weeks', 'w'],
  day: ['day', 'days', 'd'],
  hour: ['hour', 'hours', 'h', 'hr', 'hrs'],
  minute: ['minute', 'minutes', 'm', 'min', 'mins'],
  second: ['second', 'seconds', 's', 'sec', 'secs'],
  millisecond: ['millisecond', 'milliseconds', 'ms', 'msec', 'msecs', 'msecond', 'mseconds'],
  microsecond: ['microsecond', 'microseconds', 'microsec', 'microsecs', 'us', 'usec', 'usecs'],
})) {
  for (const name of names) DATE_PARTS[name] = unit
}

function datePart(arg: Token[], fn: string): string {
  const sig = significant(arg)
  const t = sig[0]
  let raw: string | undefined
  if (sig.length === 1 && t?.kind === 'ident') raw = t.text
  else if (sig.length === 1 && t?.kind === 'string') raw = t.text.slice(1, -1)
  const unit = raw === undefined ? undefined : DATE_PARTS[raw.toLowerCase()]
  if (!unit) {
    const shown = arg
      .map((x) => x.text)
      .join('')
      .trim()
    throw new SqlRejectedError(`ERROR: ${fn}: unsupported date part "${shown}"`)
  }
  return unit
}

/** An argument as SQL text; a lone string literal gets `::timestamp` (Redshift casts it). */
function timestampArg(text: string, tokens: Token[]): string {
  const sig = significant(tokens)
  if (sig.length === 1 && sig[0]!.kind === 'string') return `${sig[0]!.text}::timestamp`
  return `(${text})`
}

const INTERVAL_FOR: Record<string, string> = {
  millennium: "interval '1000 years'",
  century: "interval '100 years'",
  decade: "interval '10 years'",
  year: "interval '1 year'",
  quarter: "interval '3 months'",
  month: "interval '1 month'",
  week: "interval '7 days'",
  day: "interval '1 day'",
  hour: "interval '1 hour'",
  minute: "interval '1 minute'",
  second: "interval '1 second'",
  millisecond: "interval '1 millisecond'",
  microsecond: "interval '1 microsecond'",
}

const SECONDS_PER: Record<string, number> = {
  hour: 3600,
  minute: 60,
  second: 1,
  millisecond: 0.001,
  microsecond: 0.000001,
}

function dateDiff(unit: string, a: string, b: string): string {
  const ts = (x: string) => `(${x})::timestamp`
  const ext = (field: string, x: string) => `extract(${field} from ${ts(x)})`
  switch (unit) {
    case 'millennium':
    case 'century':
    case 'decade':
      return `(${ext(unit, b)} - ${ext(unit, a)})::bigint`
    case 'year':
      return `(${ext('year', b)} - ${ext('year', a)})::bigint`
    case 'quarter':
      return `((${ext('year', b)} * 4 + ${ext('quarter', b)}) - (${ext('year', a)} * 4 + ${ext('quarter', a)}))::bigint`
    case 'month':
      return `((${ext('year', b)} * 12 + ${ext('month', b)}) - (${ext('year', a)} * 12 + ${ext('month', a)}))::bigint`
    case 'week':
      return `((date_trunc('week', ${ts(b)})::date - date_trunc('week', ${ts(a)})::date) / 7)::bigint`
    case 'day':
      return `(${ts(b)}::date - ${ts(a)}::date)::bigint`
    default: {
      const secs = SECONDS_PER[unit]!
      const epoch = (x: string) => `extract(epoch from date_trunc('${unit}', ${ts(x)}))`
      return `round((${epoch(b)} - ${epoch(a)}) / ${secs})::bigint`
    }
  }
}

type Rule = (args: Token[][], text: string[]) => string

function arity(fn: string, args: Token[][], min: number, max = min): void {
  if (args.length < min || args.length > max) {
    const want = min === max ? `${min}` : `${min} to ${max}`
    throw new SqlRejectedError(`ERROR: function ${fn} takes ${want} arguments, got ${args.length}`)
  }
}

/** Function-call rewrites, keyed by upper-case function name. See README.md. */
const FUNCTION_RULES: Record<string, Rule> = {
  GETDATE: (args) => {
    arity('GETDATE', args, 0)
    return "date_trunc('second', localtimestamp)"
  },
  NVL: (args, text) => {
    if (args.length < 2) arity('NVL', args, 2, 99)
    return `COALESCE(${text.join(',')})`
  },
  NVL2: (args, text) => {
    arity('NVL2', args, 3)
    return `(CASE WHEN (${text[0]}) IS NOT NULL THEN (${text[1]}) ELSE (${text[2]}) END)`
  },
  LEN: (args, text) => {
    arity('LEN', args, 1)
    return `length(${text[0]})`
  },
  DATEADD: (args, text) => {
    arity('DATEADD', args, 3)
    const unit = datePart(args[0]!, 'DATEADD')
    const interval = INTERVAL_FOR[unit]!
    return `(${timestampArg(text[2]!, args[2]!)} + (${text[1]}) * ${interval})`
  },
  DATEDIFF: (args, text) => {
    arity('DATEDIFF', args, 3)
    return dateDiff(datePart(args[0]!, 'DATEDIFF'), text[1]!, text[2]!)
  },
  CONVERT_TIMEZONE: (args, text) => {
    arity('CONVERT_TIMEZONE', args, 2, 3)
    const [src, dst, ts] = args.length === 3 ? text : ["'UTC'", text[0], text[1]]
    return `(((${ts})::timestamp AT TIME ZONE (${src})) AT TIME ZONE (${dst}))`
  },
}

/** Bare keywords rewritten outside function-call position. */
const KEYWORD_RULES: Record<string, string> = {
  SYSDATE: 'localtimestamp',
}

/** PostgreSQL-only functions Redshift does not have, with the Redshift alternative. */
const DENIED_FUNCTIONS: Record<string, string> = {
  STRING_AGG: 'use LISTAGG(expr, delimiter) WITHIN GROUP (ORDER BY ...)',
  ARRAY_AGG: 'Redshift has no array aggregates',
  JSON_AGG: 'Redshift has no JSON aggregates',
  JSONB_AGG: 'Redshift has no JSON aggregates',
  JSON_BUILD_OBJECT: 'use OBJECT(...) with SUPER',
  JSONB_BUILD_OBJECT: 'use OBJECT(...) with SUPER',
  TO_JSON: 'use JSON_SERIALIZE with SUPER',
  TO_JSONB: 'use JSON_SERIALIZE with SUPER',
  UNNEST: 'Redshift has no UNNEST over arrays',
}

/** Data types PostgreSQL has and Redshift does not. */
const DENIED_TYPES: Record<string, string> = {
  JSON: 'use SUPER',
  JSONB: 'use SUPER',
  UUID: 'use CHAR(36)',
  SERIAL: 'use IDENTITY(seed, step)',
  BIGSERIAL: 'use IDENTITY(seed, step)',
  SMALLSERIAL: 'use IDENTITY(seed, step)',
  BYTEA: 'use VARBYTE',
  MONEY: 'use DECIMAL',
  XML: 'Redshift has no XML type',
  INET: 'Redshift has no network types',
  CIDR: 'Redshift has no network types',
  TSVECTOR: 'Redshift has no text-search types',
}

const DENIED_OPERATORS = new Set(['->', '->>', '#>', '#>>', '@>', '<@', '?|', '?&', '?'])

/** Table attributes with no PostgreSQL counterpart; accepted and ignored (README rule R9). */
function stripDdlAttributes(tokens: Token[]): Token[] {
  const out: Token[] = []
  let i = 0
  while (i < tokens.length) {
    const t = tokens[i]!
    if (t.kind !== 'ident') {
      out.push(t)
      i++
      continue
    }
    const j = nextSignificant(tokens, i + 1)
    const after = tokens[j]
    const u = t.upper
    if (u === 'DISTSTYLE' || u === 'ENCODE' || u === 'BACKUP') {
      if (after?.kind !== 'ident') {
        throw new SqlRejectedError(`ERROR: syntax error at or near "${t.text}": ${u} needs a value`)
      }
      i = j + 1
    } else if (u === 'DISTKEY' || u === 'SORTKEY') {
      i = after?.kind === 'lparen' ? matchingParen(tokens, j) + 1 : i + 1
      if (u === 'SORTKEY' && after?.kind === 'ident' && after.upper === 'AUTO') i = j + 1
    } else if ((u === 'COMPOUND' || u === 'INTERLEAVED') && after?.upper === 'SORTKEY') {
      i = j
    } else {
      out.push(t)
      i++
    }
  }
  return out
}

/** What the emulator will run for one Redshift statement. */
export interface TranslatedStatement {
  /** PostgreSQL text, with `$1..$n` for the named parameters. */
  sql: string
  /** Parameter values in `$n` order. */
  values: string[]
  /** The statement type from the parser (`select`, `insert`, `create`, ...). */
  type: string
}

const ALLOWED_TYPES = new Set([
  'select',
  'insert',
  'update',
  'delete',
  'create',
  'drop',
  'truncate',
  'alter',
])
const ALLOWED_CREATE_DROP = new Set(['table', 'view', 'schema'])
const DDL_FIRST_WORDS = new Set(['CREATE', 'DROP', 'ALTER', 'TRUNCATE'])

const parser = new Parser()

interface PegError {
  message: string
  found?: string | null
  location?: { start: { line: number; column: number } }
}

function parseGate(text: string, firstWord: string): Record<string, unknown>[] {
  const attempt = (database: string) => {
    const ast = parser.astify(text, { database }) as unknown
    return (Array.isArray(ast) ? ast : [ast]) as Record<string, unknown>[]
  }
  try {
    return attempt('redshift')
  } catch (redshiftError) {
    // node-sql-parser 5.4's redshift grammar lacks several valid Redshift DDL forms (CTAS,
    // TEMP tables, IF EXISTS, TIMESTAMPTZ columns); for DDL only, fall back to its PostgreSQL
    // grammar, then apply the same Redshift deny-list. DML stays on the redshift grammar.
    if (DDL_FIRST_WORDS.has(firstWord)) {
      try {
        return attempt('postgresql')
      } catch {
        // report the redshift grammar's error below
      }
    }
    const e = redshiftError as PegError
    const where = e.location
      ? ` (line ${e.location.start.line}, column ${e.location.start.column})`
      : ''
    const near = e.found == null ? 'end of input' : `"${e.found}"`
    throw new SqlRejectedError(
      `ERROR: syntax error at or near ${near}${where} [emulator: rejected by node-sql-parser's Redshift grammar; valid Redshift it cannot parse is outside the emulator's subset, see its README]`,
    )
  }
}

/** Type names the redshift grammar does not know, spelled the way it does (parse only). */
const GATE_TYPE_SPELLINGS: Record<string, string> = {
  TIMESTAMPTZ: 'TIMESTAMP WITH TIME ZONE',
  TIMETZ: 'TIME WITH TIME ZONE',
}

/**
 * The text the grammar check parses: type spellings it knows, and neutral quoted names and
 * strings in place of the caller's (the grammar rejects some valid ones: doubled `""` inside
 * a quoted identifier, a newline or backslash escape inside a string). Only the parse sees
 * this text; translation works on the caller's tokens.
 */
function gateText(tokens: Token[]): string {
  return tokens
    .map((t) => {
      if (t.kind === 'ident') return GATE_TYPE_SPELLINGS[t.upper] ?? t.text
      if (t.kind === 'qident') return '"q"'
      if (t.kind === 'string') return "'s'"
      return t.text
    })
    .join('')
}

/** Valid Redshift the emulator cannot check or run: rejected with a specific message. */
function checkKnownGaps(sig: Token[]): void {
  const gap = (what: string, why: string) =>
    new SqlRejectedError(
      `ERROR: [emulator] ${what} is valid Redshift but outside the emulator's supported subset (${why})`,
    )
  const first = sig[0]?.upper
  if (first === 'MERGE') throw gap('MERGE', 'node-sql-parser cannot parse it')
  for (let i = 0; i < sig.length; i++) {
    const t = sig[i]!
    if (t.kind !== 'ident') continue
    const next = sig[i + 1]
    const u = t.upper
    if (u === 'QUALIFY')
      throw gap('QUALIFY', 'node-sql-parser cannot parse it; filter ROW_NUMBER() in an outer query')
    if (u === 'TOP' && sig[i - 1]?.upper === 'SELECT' && next?.kind === 'number') {
      throw gap('SELECT TOP n', 'use LIMIT n')
    }
    if (u === 'WITHIN' && next?.upper === 'GROUP' && sig.some((x) => x.upper === 'LISTAGG')) {
      throw gap('LISTAGG ... WITHIN GROUP', 'node-sql-parser cannot parse it')
    }
    if (u === 'IDENTITY' && next?.kind === 'lparen')
      throw gap('IDENTITY(seed, step)', 'node-sql-parser cannot parse it')
    if ((u === 'IGNORE' || u === 'RESPECT') && next?.upper === 'NULLS') {
      throw gap(`${u} NULLS`, 'PostgreSQL window functions have no null treatment')
    }
    if (u === 'DELETE' && (sig[i + 3]?.upper === 'USING' || sig[i + 5]?.upper === 'USING')) {
      throw gap(
        'DELETE ... USING',
        'node-sql-parser cannot parse it; use WHERE ... IN (SELECT ...)',
      )
    }
    if (u === 'COPY' || u === 'UNLOAD') {
      if (i === 0) throw gap(u, 'there is no S3 behind the emulator')
    }
  }
}

function checkAst(node: unknown): void {
  if (Array.isArray(node)) {
    for (const x of node) checkAst(x)
    return
  }
  if (node === null || typeof node !== 'object') return
  const obj = node as Record<string, unknown>
  if (typeof obj.dataType === 'string') {
    const dt = obj.dataType.toUpperCase()
    const hint = DENIED_TYPES[dt]
    if (hint) {
      throw new SqlRejectedError(
        `ERROR: type "${dt.toLowerCase()}" is not supported by Redshift (${hint})`,
      )
    }
  }
  for (const value of Object.values(obj)) checkAst(value)
}

function checkTokens(sig: Token[]): void {
  for (let i = 0; i < sig.length; i++) {
    const t = sig[i]!
    const next = sig[i + 1]
    if (t.text === '[') {
      throw new SqlRejectedError(
        "ERROR: [emulator] subscripts are outside the emulator's subset (Redshift has no PostgreSQL arrays; SUPER navigation is not emulated)",
      )
    }
    if (t.kind === 'op' && DENIED_OPERATORS.has(t.text)) {
      throw new SqlRejectedError(
        `ERROR: operator "${t.text}" is not supported by Redshift (JSON/array operators are PostgreSQL-only)`,
      )
    }
    if (t.kind !== 'ident') continue
    const u = t.upper
    if (u === 'ON' && next?.upper === 'CONFLICT') {
      throw new SqlRejectedError(
        'ERROR: INSERT ... ON CONFLICT is not supported by Redshift (use MERGE or a staging table)',
      )
    }
    if (u === 'RETURNING') {
      throw new SqlRejectedError('ERROR: RETURNING is not supported by Redshift')
    }
    if (u === 'DISTINCT' && next?.upper === 'ON') {
      throw new SqlRejectedError(
        'ERROR: SELECT DISTINCT ON is not supported by Redshift (use ROW_NUMBER() OVER (...))',
      )
    }
    if (u === 'FILTER' && next?.kind === 'lparen' && sig[i + 2]?.upper === 'WHERE') {
      throw new SqlRejectedError(
        'ERROR: aggregate FILTER (WHERE ...) is not supported by Redshift (use CASE inside the aggregate)',
      )
    }
    if (u === 'LATERAL') {
      throw new SqlRejectedError('ERROR: LATERAL is not supported by Redshift')
    }
    if (u === 'ARRAY' && next?.text === '[') {
      throw new SqlRejectedError('ERROR: ARRAY[...] constructors are not supported by Redshift')
    }
    if (u === 'ARRAY' && next?.kind === 'lparen') {
      throw new SqlRejectedError(
        "ERROR: [emulator] ARRAY(...) (SUPER) is valid Redshift but outside the emulator's supported subset",
      )
    }
    const denied = DENIED_FUNCTIONS[u]
    if (denied && next?.kind === 'lparen') {
      throw new SqlRejectedError(
        `ERROR: function ${t.text.toLowerCase()} is not supported by Redshift (${denied})`,
      )
    }
  }
}

function render(tokens: Token[], params: Map<string, number>): string {
  let out = ''
  let i = 0
  while (i < tokens.length) {
    const t = tokens[i]!
    if (t.kind === 'param') {
      const name = t.text.slice(1)
      let index = params.get(name)
      if (index === undefined) {
        index = params.size + 1
        params.set(name, index)
      }
      out += `$${index}`
      i++
      continue
    }
    if (t.kind === 'qident') {
      // Redshift folds delimited identifiers to lower case (enable_case_sensitive_identifier off).
      out += t.text.toLowerCase()
      i++
      continue
    }
    if (t.kind === 'string' && t.text.includes('\\')) {
      // A Redshift literal with backslash escapes is a PostgreSQL escape string (R12).
      out += `E${t.text}`
      i++
      continue
    }
    if (t.kind === 'ident') {
      const j = nextSignificant(tokens, i + 1)
      const isCall = tokens[j]?.kind === 'lparen'
      const prev = out.trimEnd()
      const qualified = prev.endsWith('.')
      const rule = isCall && !qualified ? FUNCTION_RULES[t.upper] : undefined
      if (rule) {
        const close = matchingParen(tokens, j)
        const args = splitArgs(tokens, j, close)
        const text = args.map((a) => render(a, params).trim())
        out += rule(args, text)
        i = close + 1
        continue
      }
      const keyword = !isCall && !qualified ? KEYWORD_RULES[t.upper] : undefined
      if (keyword) {
        out += keyword
        i++
        continue
      }
    }
    out += t.text
    i++
  }
  return out
}

/**
 * Checks one Redshift statement and translates it for PostgreSQL.
 * @param sql Redshift SQL text (exactly one statement).
 * @param parameters Data API parameters (`:name` placeholders), values as strings.
 * @throws SqlRejectedError when Redshift (or the emulator's subset) would reject the statement.
 */
export function translateStatement(
  sql: string,
  parameters: ReadonlyMap<string, string> = new Map(),
): TranslatedStatement {
  const tokens = stripDdlAttributes(tokenize(sql))
  const sig = significant(tokens)
  if (sig.length === 0) throw new SqlRejectedError('ERROR: empty statement')
  const lastSemicolon = sig.at(-1)?.kind === 'semicolon' ? sig.length - 1 : sig.length
  if (sig.slice(0, lastSemicolon).some((t) => t.kind === 'semicolon')) {
    throw new SqlRejectedError(
      'ERROR: [emulator] one SQL statement per Sql; use BatchExecuteStatement for several',
    )
  }
  const firstWord = sig[0]!.upper
  checkTokens(sig)
  checkKnownGaps(sig)
  const ast = parseGate(gateText(tokens), firstWord)
  const first = ast[0] ?? {}
  const type = String(first.type ?? 'unknown')
  if (!ALLOWED_TYPES.has(type)) {
    throw new SqlRejectedError(
      `ERROR: [emulator] ${firstWord} statements are outside the emulator's supported Redshift subset`,
    )
  }
  if ((type === 'create' || type === 'drop') && !ALLOWED_CREATE_DROP.has(String(first.keyword))) {
    throw new SqlRejectedError(
      `ERROR: [emulator] ${type.toUpperCase()} ${String(first.keyword).toUpperCase()} is outside the emulator's supported Redshift subset (TABLE, VIEW, SCHEMA)`,
    )
  }
  if (type === 'alter' && !Array.isArray(first.table)) {
    throw new SqlRejectedError(
      "ERROR: [emulator] only ALTER TABLE is in the emulator's supported Redshift subset",
    )
  }
  checkAst(ast)
  const params = new Map<string, number>()
  const text = render(tokens, params)
  const values: string[] = []
  for (const [name, index] of params) {
    const value = parameters.get(name)
    if (value === undefined) {
      throw new SqlRejectedError(`ERROR: no value was provided for parameter :${name}`)
    }
    values[index - 1] = value
  }
  return { sql: text, values, type }
}
