/**
 * A small SQL tokenizer shared by the BigQuery and Snowflake emulators.
 *
 * It only needs to be good enough to rewrite statements mechanically (quote styles,
 * parameter markers, dotted names, function calls): every token keeps its original text,
 * so joining the texts of an untouched token list gives the input back byte for byte.
 */

/** What a token is. */
export type TokenKind =
  | 'ws' // whitespace
  | 'comment' // -- ..., // ..., # ..., /* ... */
  | 'word' // bare identifier or keyword
  | 'quoted' // quoted identifier ("x" in Snowflake, `x` in BigQuery)
  | 'string' // string literal
  | 'number'
  | 'param' // ?, :1, @name
  | 'op' // operators and punctuation
  | 'lparen'
  | 'rparen'
  | 'comma'
  | 'dot'
  | 'semicolon'

/** One token: its kind, its source text and, for quoted identifiers/strings, the decoded value. */
export interface Token {
  kind: TokenKind
  text: string
  /** Decoded value for `quoted` and `string` tokens, the name for named params, the upper-cased word for `word`. */
  value: string
}

/** Lexical rules that differ between the dialects. */
export interface LexerDialect {
  /** Character that quotes identifiers. */
  identQuote: '`' | '"'
  /** Whether double-quoted text is a string literal (BigQuery) rather than an identifier. */
  doubleQuotedStrings: boolean
  /** Whether backslash escapes are recognized in string literals. */
  backslashEscapes: boolean
  /** Whether `@name` is a named parameter (BigQuery). */
  atParams: boolean
  /** Whether `:1` / `:name` is a parameter (Snowflake). */
  colonParams: boolean
  /** Whether `#` starts a comment (BigQuery). */
  hashComments: boolean
  /** Whether `//` starts a comment (Snowflake). */
  slashSlashComments: boolean
}

/** Error raised for input the tokenizer cannot read (unterminated string, stray character). */
export class SqlLexError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message)
    this.name = 'SqlLexError'
  }
}

const WORD_START = /[A-Za-z_]/
const WORD_PART = /[A-Za-z0-9_$]/
const DIGIT = /[0-9]/

/** Splits `sql` into tokens under the given dialect's lexical rules. */
export function tokenize(sql: string, dialect: LexerDialect): Token[] {
  const tokens: Token[] = []
  let i = 0
  const n = sql.length
  const push = (kind: TokenKind, start: number, value?: string): void => {
    const text = sql.slice(start, i)
    tokens.push({ kind, text, value: value ?? text })
  }
  while (i < n) {
    const c = sql[i]!
    const next = sql[i + 1]
    const start = i
    if (/\s/.test(c)) {
      while (i < n && /\s/.test(sql[i]!)) i++
      push('ws', start)
    } else if (
      (c === '-' && next === '-') ||
      (dialect.hashComments && c === '#') ||
      (dialect.slashSlashComments && c === '/' && next === '/')
    ) {
      while (i < n && sql[i] !== '\n') i++
      push('comment', start)
    } else if (c === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2)
      if (end < 0) throw new SqlLexError('unterminated comment', start)
      i = end + 2
      push('comment', start)
    } else if (c === "'" || (c === '"' && dialect.doubleQuotedStrings)) {
      push(
        'string',
        start,
        readString(sql, start, dialect, (p) => (i = p)),
      )
    } else if (c === dialect.identQuote || c === '"') {
      // A quoted identifier; the quote doubles to escape itself, except in GoogleSQL, where
      // backticked identifiers take the escape sequences of string literals (`a\`b`).
      const escapes = c === '`' && dialect.backslashEscapes
      let value = ''
      i++
      for (;;) {
        if (i >= n) throw new SqlLexError('unterminated quoted identifier', start)
        if (escapes && sql[i] === '\\') {
          const [decoded, next] = readEscape(sql, i, start)
          value += decoded
          i = next
          continue
        }
        if (sql[i] === c && escapes) {
          i++
          break
        }
        if (sql[i] === c) {
          if (sql[i + 1] === c) {
            value += c
            i += 2
            continue
          }
          i++
          break
        }
        value += sql[i]
        i++
      }
      push('quoted', start, value)
    } else if (
      (c === 'r' || c === 'R' || c === 'b' || c === 'B') &&
      (next === "'" || (next === '"' && dialect.doubleQuotedStrings)) &&
      dialect.doubleQuotedStrings
    ) {
      // BigQuery raw (r'...') and bytes (b'...') prefixes.
      const raw = c === 'r' || c === 'R'
      i++
      push(
        'string',
        start,
        readString(sql, i, { ...dialect, backslashEscapes: !raw }, (p) => (i = p)),
      )
    } else if (DIGIT.test(c) || (c === '.' && next !== undefined && DIGIT.test(next))) {
      while (i < n && /[0-9.]/.test(sql[i]!)) i++
      if (i < n && /[eE]/.test(sql[i]!) && /[-+0-9]/.test(sql[i + 1] ?? '')) {
        i += 2
        while (i < n && DIGIT.test(sql[i]!)) i++
      }
      push('number', start)
    } else if (WORD_START.test(c)) {
      while (i < n && WORD_PART.test(sql[i]!)) i++
      const text = sql.slice(start, i)
      tokens.push({ kind: 'word', text, value: text.toUpperCase() })
    } else if (c === '?') {
      i++
      push('param', start, '')
    } else if (dialect.atParams && c === '@' && next !== undefined && WORD_START.test(next)) {
      i++
      while (i < n && WORD_PART.test(sql[i]!)) i++
      push('param', start, sql.slice(start + 1, i))
    } else if (
      dialect.colonParams &&
      c === ':' &&
      next !== undefined &&
      next !== ':' &&
      sql[i - 1] !== ':' &&
      /[0-9A-Za-z_]/.test(next)
    ) {
      i++
      while (i < n && WORD_PART.test(sql[i]!)) i++
      push('param', start, sql.slice(start + 1, i))
    } else if (c === '(') {
      i++
      push('lparen', start)
    } else if (c === ')') {
      i++
      push('rparen', start)
    } else if (c === ',') {
      i++
      push('comma', start)
    } else if (c === '.') {
      i++
      push('dot', start)
    } else if (c === ';') {
      i++
      push('semicolon', start)
    } else {
      const two = sql.slice(i, i + 2)
      if (['<=', '>=', '<>', '!=', '::', '||', '=>', '->'].includes(two)) i += 2
      else i++
      push('op', start)
    }
  }
  return tokens
}

function readString(
  sql: string,
  start: number,
  dialect: LexerDialect,
  setPos: (p: number) => void,
): string {
  const q = sql[start]!
  // Triple-quoted strings are BigQuery's; in Snowflake `'''` opens a string with a quote in it.
  const triple = dialect.doubleQuotedStrings && sql.slice(start, start + 3) === q.repeat(3)
  let i = start + (triple ? 3 : 1)
  let value = ''
  for (;;) {
    if (i >= sql.length) throw new SqlLexError('unterminated string literal', start)
    const c = sql[i]!
    if (dialect.backslashEscapes && c === '\\') {
      if (dialect.identQuote === '`') {
        const [decoded, next] = readEscape(sql, i, start)
        value += decoded
        i = next
        continue
      }
      const e = sql[i + 1] ?? ''
      const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0', b: '\b', f: '\f' }
      value += map[e] ?? e
      i += 2
      continue
    }
    if (triple) {
      if (sql.slice(i, i + 3) === q.repeat(3)) {
        i += 3
        break
      }
    } else if (c === q) {
      if (sql[i + 1] === q && !dialect.doubleQuotedStrings) {
        value += q
        i += 2
        continue
      }
      i++
      break
    }
    value += c
    i++
  }
  setPos(i)
  return value
}

const SIMPLE_ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  b: '\b',
  f: '\f',
  a: '\u0007',
  v: '\v',
}

/**
 * Decodes the GoogleSQL backslash escape at `sql[i]` (`\n \t \r \b \f \a \v`, `\ooo`
 * octal, `\xhh`, `\uhhhh`, `\Uhhhhhhhh`, else the character itself: `\\ \' \" \``).
 * Returns the decoded text and the index after the escape.
 */
function readEscape(sql: string, i: number, start: number): [string, number] {
  const e = sql[i + 1]
  if (e === undefined) throw new SqlLexError('unterminated escape sequence', start)
  const simple = SIMPLE_ESCAPES[e]
  if (simple !== undefined) return [simple, i + 2]
  const hex = (len: number, from: number): [string, number] => {
    const digits = sql.slice(from, from + len)
    if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(digits)) {
      throw new SqlLexError(`illegal escape sequence \\${sql.slice(i + 1, from + len)}`, start)
    }
    return [String.fromCodePoint(Number.parseInt(digits, 16)), from + len]
  }
  if (e === 'x' || e === 'X') return hex(2, i + 2)
  if (e === 'u') return hex(4, i + 2)
  if (e === 'U') return hex(8, i + 2)
  if (/[0-7]/.test(e)) {
    const digits = sql.slice(i + 1, i + 4)
    if (!/^[0-7]{3}$/.test(digits)) {
      throw new SqlLexError(`illegal escape sequence \\${digits}`, start)
    }
    return [String.fromCodePoint(Number.parseInt(digits, 8)), i + 4]
  }
  return [e, i + 2]
}

/** Joins tokens back into SQL text. */
export function detokenize(tokens: readonly Token[]): string {
  return tokens.map((t) => t.text).join('')
}

/** Whether a token carries meaning (not whitespace or a comment). */
export function isSignificant(t: Token): boolean {
  return t.kind !== 'ws' && t.kind !== 'comment'
}

/** Quotes a string value as a DuckDB string literal. */
export function duckString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`
}

/** Quotes a name as a DuckDB identifier. */
export function duckIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

/** Makes a synthetic token carrying the given SQL text. */
export function rawToken(text: string, kind: TokenKind = 'op'): Token {
  return { kind, text, value: text }
}
