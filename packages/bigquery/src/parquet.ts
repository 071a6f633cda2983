/**
 * `toParquet(path)` of BigQuery retrieval jobs: the result's record batches, as they page in,
 * written to a Parquet file by parquet-wasm (Arrow's Rust writer): memory stays at a page,
 * the file appears whole (a temporary file renamed) or not at all.
 */
import { randomUUID } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { rename, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { Writable } from 'node:stream'
import { LarderError } from '@larder/core'
import * as arrow from 'apache-arrow'

type ParquetWasm = typeof import('parquet-wasm')

let wasm: Promise<ParquetWasm> | undefined

/** Parquet-wasm, loaded on first use (its WebAssembly module is instantiated on import). */
function parquetWasm(): Promise<ParquetWasm> {
  wasm ??= import('parquet-wasm')
  return wasm
}

/**
 * Writes record batches (all of one schema) to `path` as Parquet; `empty` gives the schema
 * when there is no batch. The file is written next to `path` and renamed over it at the end.
 * @throws LarderError INVALID_INPUT when the folder cannot be written.
 */
export async function writeParquetBatches(
  batches: AsyncIterable<arrow.RecordBatch>,
  path: string,
  empty: () => Promise<arrow.Table>,
): Promise<void> {
  const pq = await parquetWasm()
  const temporary = join(dirname(path), `.${randomUUID()}.larder-tmp.parquet`)
  const iterator = batches[Symbol.asyncIterator]()
  const first = await iterator.next()
  try {
    if (first.done) {
      const table = pq.Table.fromIPCStream(arrow.tableToIPC(await empty(), 'stream'))
      const bytes = pq.writeParquet(table)
      await new Promise<void>((resolve, reject) => {
        const out = createWriteStream(temporary)
        out.on('error', reject)
        out.end(bytes, () => resolve())
      })
    } else {
      const toWasm = (batch: arrow.RecordBatch) =>
        pq.Table.fromIPCStream(arrow.tableToIPC(new arrow.Table([batch]), 'stream')).recordBatch(0)
      const source = new ReadableStream({
        start(controller) {
          controller.enqueue(toWasm(first.value))
        },
        async pull(controller) {
          const next = await iterator.next()
          if (next.done) controller.close()
          else controller.enqueue(toWasm(next.value))
        },
        async cancel() {
          await iterator.return?.()
        },
      })
      const bytes = await pq.transformParquetStream(source)
      await bytes.pipeTo(Writable.toWeb(createWriteStream(temporary)))
    }
    await rename(temporary, path)
  } catch (err) {
    await rm(temporary, { force: true })
    await iterator.return?.()
    if (err instanceof LarderError || (err as Error)?.name === 'AbortError') throw err
    const code = (err as { code?: string })?.code
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EROFS') {
      throw new LarderError('INVALID_INPUT', `cannot write Parquet file ${path}: ${code}`, {
        component: 'bigquery',
        hint: 'write to a folder that exists and is writable',
        cause: err,
      })
    }
    throw err
  }
}
