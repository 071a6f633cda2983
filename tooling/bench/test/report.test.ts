import { describe, expect, test } from 'vitest'
import { markdownTable, median, summarize } from '../src/report.js'

describe('benchmark report', () => {
  test('median of odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2)
    expect(median([4, 1, 3, 2])).toBe(2.5)
    expect(median([])).toBeNaN()
  })

  test('ratios are against the baseline of the same case', () => {
    const rows = summarize([
      { case: 'a', subject: 'raw', baseline: true, timesMs: [10, 12, 11], peakRssMb: 100, rows: 5 },
      {
        case: 'a',
        subject: 'larder',
        baseline: false,
        timesMs: [22, 20, 21],
        peakRssMb: 120,
        rows: 5,
      },
      { case: 'b', subject: 'larder', baseline: false, timesMs: [1], peakRssMb: 1, rows: 1 },
    ])
    expect(rows.map((r) => r.ratio)).toEqual([1, 21 / 11, undefined])
    const md = markdownTable(rows)
    expect(md).toContain('| a | larder | 21.0 | 20.0 | 22.0 | 1.91x |')
    expect(md).toContain('| b | larder | 1.00 | 1.00 | 1.00 | - |')
  })
})
