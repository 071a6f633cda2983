/** Arrow tables as row objects (int64 as bigint, timestamps as Date, lists as arrays). */
import * as arrow from 'apache-arrow'

function convert(value: unknown, type: arrow.DataType): unknown {
  if (value === null || value === undefined) return null
  if (arrow.DataType.isTimestamp(type) || arrow.DataType.isDate(type)) {
    return new Date(value as number)
  }
  if (arrow.DataType.isList(type)) {
    const child = (type as arrow.List).children[0]!.type
    return Array.from(value as Iterable<unknown>, (item) => convert(item, child))
  }
  return value
}

/** The rows of a table as objects keyed by column name, in row order. */
export function tableToRows(table: arrow.Table): Record<string, unknown>[] {
  const fields = table.schema.fields
  const columns = fields.map((f) => table.getChild(f.name)!)
  const rows: Record<string, unknown>[] = []
  for (let i = 0; i < table.numRows; i++) {
    const row: Record<string, unknown> = {}
    fields.forEach((f, c) => {
      row[f.name] = convert(columns[c]!.get(i), f.type)
    })
    rows.push(row)
  }
  return rows
}
