import nodeSqlParser from 'node-sql-parser'
import { detokenize, isSignificant, rawToken } from './lexer.js'
import type { Token } from './lexer.js'

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
