import nodeSqlParser from 'node-sql-parser'
import type { Token } from './lexer.js'
import { detokenize, isSignificant, rawToken } from './lexer.js'

const { Parser } = nodeSqlParser

/** Why a statement was refused before it reached DuckDB. */
export type RejectionKind = 'syntax' | 'unsupported' | 'function' | 'qualification' | 'parameter'

/** A statement the emulated warehouse would refuse (or the emulator does not support). */
export class SqlRejection extends Error {
  constructor(
    readonly kind: RejectionKind,
    message: string,
    /** 1-based line and column of the offending text, when known. */
    readonly line = 1,
    readonly column = 1,
  ) {
    super(message)
    this.name = 'SqlRejection'
  }
}

/** Index of the next significant token at or after `i`, or -1. */
export function nextSig(tokens: readonly Token[], i: number): number {
  for (let j = i; j < tokens.length; j++) if (isSignificant(tokens[j]!)) return j
  return -1
}

/** Index of the previous significant token at or before `i`, or -1. */
export function prevSig(tokens: readonly Token[], i: number): number {
  for (let j = i; j >= 0; j--) if (isSignificant(tokens[j]!)) return j
  return -1
}

/** Index of the `)` matching the `(` at `open`. */
export function matchingParen(tokens: readonly Token[], open: number): number {
  let depth = 0
  for (let j = open; j < tokens.length; j++) {
    const k = tokens[j]!.kind
    if (k === 'lparen') depth++
    else if (k === 'rparen') {
      depth--
      if (depth === 0) return j
    }
  }
  throw new SqlRejection('syntax', 'Syntax error: unbalanced parentheses')
}

/** Whether token `t` is the bare word `word` (case-insensitive). */
export function isWord(t: Token | undefined, ...words: string[]): boolean {
  return t !== undefined && t.kind === 'word' && words.includes(t.value)
}

/** Splits the tokens of a call's argument list (between its parens) at top-level commas. */
export function splitArgs(tokens: readonly Token[]): Token[][] {
  const args: Token[][] = [[]]
  let depth = 0
  for (const t of tokens) {
    if (t.kind === 'lparen') depth++
    else if (t.kind === 'rparen') depth--
    if (t.kind === 'comma' && depth === 0) args.push([])
    else args[args.length - 1]!.push(t)
  }
  if (args.length === 1 && args[0]!.every((t) => !isSignificant(t))) return []
  return args
}

/** Trims leading/trailing whitespace and comments from a token list. */
export function trimTokens(tokens: readonly Token[]): Token[] {
  let a = 0
  let b = tokens.length
  while (a < b && !isSignificant(tokens[a]!)) a++
  while (b > a && !isSignificant(tokens[b - 1]!)) b--
  return tokens.slice(a, b)
}

/** Rewrites one function call: receives the (already rewritten) argument texts, returns SQL. */
export type CallRewriter = (args: string[], argTokens: Token[][]) => string

/**
 * Rewrites calls `NAME(args)` (not qualified names like `x.NAME(`) with the rewriter registered for
 * NAME, innermost calls first. Other tokens are kept as they are.
 */
export function rewriteCalls(
  tokens: readonly Token[],
  rewriters: Readonly<Record<string, CallRewriter>>,
): Token[] {
  const out: Token[] = []
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!
    const rewrite = t.kind === 'word' ? rewriters[t.value] : undefined
    const open = rewrite ? nextSig(tokens, i + 1) : -1
    const before = prevSig(tokens, i - 1)
    if (
      rewrite &&
      open >= 0 &&
      tokens[open]!.kind === 'lparen' &&
      (before < 0 || tokens[before]!.kind !== 'dot')
    ) {
      const close = matchingParen(tokens, open)
      const argTokens = splitArgs(tokens.slice(open + 1, close)).map((a) =>
        trimTokens(rewriteCalls(a, rewriters)),
      )
      out.push(rawToken(rewrite(argTokens.map(detokenize), argTokens)))
      i = close
      continue
    }
    out.push(t)
  }
  return out
}

/** Splits tokens into statements at top-level semicolons, dropping empty statements. */
export function splitStatements(tokens: readonly Token[]): Token[][] {
  const statements: Token[][] = [[]]
  for (const t of tokens) {
    if (t.kind === 'semicolon') statements.push([])
    else statements[statements.length - 1]!.push(t)
  }
  return statements.filter((s) => s.some(isSignificant))
}

/** SQL words both warehouse dialects may put before `(` without it being a function call. */
export const NON_FUNCTION_WORDS: readonly string[] = [
  'IN',
  'EXISTS',
  'AS',
  'OVER',
  'VALUES',
  'USING',
  'AND',
  'OR',
  'NOT',
  'ON',
  'FROM',
  'JOIN',
  'SELECT',
  'WHERE',
  'WITH',
  'ANY',
  'ALL',
  'SOME',
  'THEN',
  'ELSE',
  'WHEN',
  'CASE',
  'BY',
  'HAVING',
  'QUALIFY',
  'LIMIT',
  'INTERVAL',
  'TABLE',
  'INTO',
  'UNION',
  'INTERSECT',
  'EXCEPT',
  'DISTINCT',
  'RECURSIVE',
  'LATERAL',
]

/**
 * Names called as functions in `tokens`: a bare word followed by `(`, excluding words that are
 * SQL keywords or type names in that position (`nonFunctions`) and table names with column lists
 * (`INSERT INTO t (...)`, `CREATE TABLE t (...)`). Returns upper-cased names with their positions.
 */
export function calledFunctions(
  tokens: readonly Token[],
  nonFunctions: ReadonlySet<string>,
): Array<{ name: string; index: number }> {
  const found: Array<{ name: string; index: number }> = []
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!
    if (t.kind !== 'word' || nonFunctions.has(t.value)) continue
    const open = nextSig(tokens, i + 1)
    if (open < 0 || tokens[open]!.kind !== 'lparen') continue
    const before = prevSig(tokens, i - 1)
    const prev = before >= 0 ? tokens[before] : undefined
    if (prev && (prev.kind === 'dot' || isWord(prev, 'INTO', 'TABLE', 'EXISTS', 'VIEW', 'JOIN'))) {
      continue
    }
    // `* EXCEPT (...)`, `* EXCLUDE (...)`, `* REPLACE (...)`, `* RENAME (...)` modify a star.
    if (prev?.text === '*' && ['EXCEPT', 'EXCLUDE', 'REPLACE', 'RENAME'].includes(t.value)) continue
    // `WITH name (col, ...) AS (`: a CTE column list, not a call.
    const after = nextSig(tokens, matchingParen(tokens, open) + 1)
    if (after >= 0 && isWord(tokens[after], 'AS') && isWord(prev, 'WITH', 'RECURSIVE')) continue
    if (after >= 0 && isWord(tokens[after], 'AS') && prev?.kind === 'comma') continue
    found.push({ name: t.value, index: i })
  }
  return found
}

/** 1-based line/column of token `index` in the original text. */
export function positionOf(
  tokens: readonly Token[],
  index: number,
): { line: number; column: number } {
  const before = detokenize(tokens.slice(0, index))
  const lines = before.split('\n')
  return { line: lines.length, column: (lines[lines.length - 1]?.length ?? 0) + 1 }
}

interface PegError {
  message: string
  found?: string | null
  location?: { start: { line: number; column: number; offset: number } }
}

/** Outcome of a parse by node-sql-parser. */
export type ParseOutcome =
  | { ok: true; ast: unknown }
  | { ok: false; found: string | null; line: number; column: number; message: string }

const parser = new Parser()

/** Parses `sql` with node-sql-parser for `database` ('bigquery' or 'snowflake'). */
export function parseWith(sql: string, database: 'bigquery' | 'snowflake'): ParseOutcome {
  try {
    return { ok: true, ast: parser.astify(sql, { database }) }
  } catch (err) {
    const e = err as PegError
    return {
      ok: false,
      found: e.found ?? null,
      line: e.location?.start.line ?? 1,
      column: e.location?.start.column ?? 1,
      message: e.message,
    }
  }
}

/**
 * Removes a top-level `QUALIFY <condition>` clause (up to ORDER BY / LIMIT / a closing paren / the
 * end), for dialects whose node-sql-parser grammar lacks QUALIFY. Returns undefined when there is none.
 */
export function withoutQualify(tokens: readonly Token[]): Token[] | undefined {
  const out: Token[] = []
  let removed = false
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!
    if (!isWord(t, 'QUALIFY')) {
      out.push(t)
      continue
    }
    removed = true
    let depth = 0
    let j = i + 1
    for (; j < tokens.length; j++) {
      const u = tokens[j]!
      if (u.kind === 'lparen') depth++
      else if (u.kind === 'rparen') {
        if (depth === 0) break
        depth--
      } else if (
        depth === 0 &&
        (isWord(u, 'ORDER', 'LIMIT', 'UNION', 'EXCEPT', 'INTERSECT') || u.kind === 'semicolon')
      ) {
        break
      }
    }
    out.push(rawToken(' '))
    i = j - 1
  }
  return removed ? out : undefined
}

const TABLE_POSITION_WORDS = ['FROM', 'JOIN', 'INTO', 'UPDATE', 'TABLE', 'VIEW']
/** Words after which `(` starts a column list, not a table function's arguments. */
const COLUMN_LIST_WORDS = ['INTO', 'TABLE', 'VIEW']
/** Calls whose arguments contain `FROM` without a table (EXTRACT(DAY FROM ts), TRIM(x FROM y), ...). */
const NOT_TABLE_FROM = ['EXTRACT', 'TRIM', 'SUBSTRING', 'POSITION', 'OVERLAY']
const FROM_LIST_END = [
  'WHERE',
  'GROUP',
  'ORDER',
  'HAVING',
  'QUALIFY',
  'LIMIT',
  'WINDOW',
  'UNION',
  'JOIN',
  'ON',
]

/** How {@link rewriteTableReferences} maps dotted names. */
export interface TableReferenceRules {
  /** Maps the parts of a table name (after FROM/JOIN/INTO/UPDATE/TABLE/VIEW or in a FROM list). */
  table: (parts: Token[], start: number, isCte: boolean) => Token[]
  /** Maps the parts of a name after SCHEMA (CREATE/DROP/USE SCHEMA). */
  schema: (parts: Token[], start: number) => Token[]
}

/** Lower-cased names defined by `WITH name AS (` / `, name AS (`. */
export function cteNames(tokens: readonly Token[]): Set<string> {
  const ctes = new Set<string>()
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!
    if (t.kind !== 'word' && t.kind !== 'quoted') continue
    const as = nextSig(tokens, i + 1)
    const open = as >= 0 ? nextSig(tokens, as + 1) : -1
    const before = prevSig(tokens, i - 1)
    if (
      isWord(tokens[as], 'AS') &&
      open >= 0 &&
      tokens[open]!.kind === 'lparen' &&
      (isWord(tokens[before], 'WITH', 'RECURSIVE') || tokens[before]?.kind === 'comma')
    ) {
      ctes.add(t.value.toLowerCase())
    }
  }
  return ctes
}

/**
 * Finds table references (after FROM/JOIN/INTO/UPDATE/TABLE/VIEW, and in comma-separated FROM
 * lists) and schema names (after SCHEMA) and lets `rules` rewrite their dotted parts.
 */
export function rewriteTableReferences(
  tokens: readonly Token[],
  rules: TableReferenceRules,
): Token[] {
  const ctes = cteNames(tokens)
  const out: Token[] = []
  const parenOwners: string[] = []
  let fromListDepth = -1
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!
    if (t.kind === 'lparen') {
      const b = prevSig(tokens, i - 1)
      parenOwners.push(tokens[b]?.kind === 'word' ? tokens[b]!.value : '')
    } else if (t.kind === 'rparen') parenOwners.pop()
    const depth = parenOwners.length
    const inSpecialCall = NOT_TABLE_FROM.includes(parenOwners[parenOwners.length - 1] ?? '')
    let isTablePosition = false
    if (t.kind === 'word' && TABLE_POSITION_WORDS.includes(t.value) && !inSpecialCall) {
      isTablePosition = true
      if (t.value === 'FROM') fromListDepth = depth
    } else if (t.kind === 'comma' && fromListDepth === depth) {
      isTablePosition = true
    } else if (t.kind === 'word' && FROM_LIST_END.includes(t.value)) {
      if (fromListDepth === depth) fromListDepth = -1
    } else if (t.kind === 'rparen' && depth < fromListDepth) fromListDepth = -1
    if (t.kind === 'word' && t.value === 'SCHEMA') {
      out.push(t)
      i = rewriteChain(tokens, i + 1, out, false, rules.schema)
      continue
    }
    out.push(t)
    if (!isTablePosition) continue
    const columnList = t.kind === 'word' && COLUMN_LIST_WORDS.includes(t.value)
    i = rewriteChain(tokens, i + 1, out, columnList, (parts, start) =>
      rules.table(parts, start, parts.length === 1 && ctes.has(parts[0]!.value.toLowerCase())),
    )
  }
  return out
}

/**
 * Reads the dotted name starting at the next significant token after `from` (skipping
 * `IF [NOT] EXISTS`), lets `map` replace its parts and appends the result to `out`.
 * Returns the index of the last consumed token.
 */
function rewriteChain(
  tokens: readonly Token[],
  from: number,
  out: Token[],
  parenIsColumnList: boolean,
  map: (parts: Token[], start: number) => Token[],
): number {
  let i = from
  for (;;) {
    const j = nextSig(tokens, i)
    if (j < 0) return i - 1
    if (isWord(tokens[j], 'IF', 'NOT', 'EXISTS')) {
      for (let k = i; k <= j; k++) out.push(tokens[k]!)
      i = j + 1
      continue
    }
    break
  }
  const start = nextSig(tokens, i)
  const first = tokens[start]
  if (!first || (first.kind !== 'word' && first.kind !== 'quoted')) return i - 1
  if (
    first.kind === 'word' &&
    ['SELECT', 'UNNEST', 'WITH', 'LATERAL', 'TABLE'].includes(first.value)
  ) {
    return i - 1
  }
  const parts: Token[] = [first]
  let end = start
  while (tokens[end + 1]?.kind === 'dot') {
    const p = tokens[end + 2]
    if (!p || (p.kind !== 'word' && p.kind !== 'quoted')) break
    parts.push(p)
    end += 2
  }
  // A name followed by `(` is a table function (unless a column list follows INTO/TABLE/VIEW).
  const after = nextSig(tokens, end + 1)
  if (!parenIsColumnList && after >= 0 && tokens[after]!.kind === 'lparen') return i - 1
  for (let k = i; k < start; k++) out.push(tokens[k]!)
  map(parts, start).forEach((p, k) => {
    if (k > 0) out.push(rawToken('.', 'dot'))
    out.push(p)
  })
  return end
}

/** A type-name replacement: its DuckDB text and whether to drop a following `(args)`. */
export interface TypeReplacement {
  text: string
  dropArgs: boolean
}

/**
 * Replaces type names where a type is expected: after `AS` inside CAST/SAFE_CAST/TRY_CAST, after
 * `::`, before a string literal (typed literals such as `TIMESTAMP '...'`) and in CREATE TABLE
 * column lists. `map` receives the upper-cased word and whether `(` follows.
 */
export function rewriteTypeNames(
  tokens: readonly Token[],
  map: (word: string, hasArgs: boolean) => TypeReplacement | undefined,
): Token[] {
  const isCreate = isWord(tokens[nextSig(tokens, 0)], 'CREATE')
  const owners: string[] = []
  const out: Token[] = []
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!
    if (t.kind === 'lparen') {
      const b = prevSig(tokens, i - 1)
      owners.push(tokens[b]?.kind === 'word' ? tokens[b]!.value : '')
    } else if (t.kind === 'rparen') owners.pop()
    out.push(t)
    if (t.kind !== 'word') continue
    const nextIndex = nextSig(tokens, i + 1)
    const next = tokens[nextIndex]
    const prev = tokens[prevSig(tokens, i - 1)]
    const owner = owners[owners.length - 1] ?? ''
    const hasArgs = next?.kind === 'lparen'
    const isTypePosition =
      (next?.kind === 'string' && !hasArgs) ||
      (isWord(prev, 'AS') && ['CAST', 'SAFE_CAST', 'TRY_CAST'].includes(owner)) ||
      (prev?.kind === 'op' && prev.text === '::') ||
      (isCreate && owners.length === 1 && (prev?.kind === 'word' || prev?.kind === 'quoted'))
    if (!isTypePosition) continue
    const replacement = map(t.value, hasArgs)
    if (!replacement) continue
    out[out.length - 1] = { ...t, text: replacement.text }
    if (hasArgs && replacement.dropArgs) i = matchingParen(tokens, nextIndex)
  }
  return out
}

/**
 * A rewrite applied only to the copy of a statement handed to node-sql-parser, for valid
 * warehouse SQL its grammar rejects. Returns undefined when it does not apply.
 */
export interface ParserWorkaround {
  /** Short description, listed in the emulator's README. */
  gap: string
  apply: (tokens: readonly Token[]) => Token[] | undefined
}

/**
 * Parses the statement with node-sql-parser; when that fails, applies every workaround that
 * applies and parses again. Returns the original failure when the statement still does not parse.
 */
export function parseWithWorkarounds(
  tokens: readonly Token[],
  database: 'bigquery' | 'snowflake',
  workarounds: readonly ParserWorkaround[],
): ParseOutcome {
  const first = parseWith(detokenize(tokens), database)
  if (first.ok) return first
  let current: readonly Token[] = tokens
  let changed = false
  for (const w of workarounds) {
    const next = w.apply(current)
    if (next) {
      current = next
      changed = true
    }
  }
  if (!changed) return first
  const second = parseWith(detokenize(current), database)
  return second.ok ? second : first
}

/** Replaces bare words (upper-cased keys) with other text; undefined when none occurs. */
export function replaceWords(
  tokens: readonly Token[],
  map: Readonly<Record<string, string>>,
): Token[] | undefined {
  let changed = false
  const out = tokens.map((t) => {
    const r = t.kind === 'word' ? map[t.value] : undefined
    if (r === undefined) return t
    changed = true
    return rawToken(r, 'word')
  })
  return changed ? out : undefined
}

/** Removes every occurrence of the word sequence (whitespace between words allowed). */
export function removeWordSequence(
  tokens: readonly Token[],
  words: readonly string[],
): Token[] | undefined {
  const out: Token[] = []
  let changed = false
  for (let i = 0; i < tokens.length; i++) {
    let j = i
    let k = 0
    for (; k < words.length; k++) {
      if (!isWord(tokens[j], words[k]!)) break
      j = k === words.length - 1 ? j : nextSig(tokens, j + 1)
      if (j < 0) break
    }
    if (k === words.length) {
      out.push(rawToken(' '))
      i = j
      changed = true
    } else out.push(tokens[i]!)
  }
  return changed ? out : undefined
}

/** Whether the significant tokens are exactly `words...` followed by a dotted name. */
export function isKeywordsThenName(tokens: readonly Token[], words: readonly string[]): boolean {
  const sig = tokens.filter(isSignificant)
  let i = 0
  for (const w of words) {
    if (w.endsWith('?')) {
      if (isWord(sig[i], w.slice(0, -1))) i++
      continue
    }
    if (!isWord(sig[i], w)) return false
    i++
  }
  if (sig[i]?.kind !== 'word' && sig[i]?.kind !== 'quoted') return false
  i++
  while (sig[i]?.kind === 'dot' && (sig[i + 1]?.kind === 'word' || sig[i + 1]?.kind === 'quoted'))
    i += 2
  return i === sig.length
}
