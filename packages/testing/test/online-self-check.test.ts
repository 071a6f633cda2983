// Checks that the online conformance suite catches bugs: it runs the suite (in a child vitest)
// against reference stores with one deliberate bug each and expects the matching cases to
// fail, and every case to pass on the store without bugs.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, test } from 'vitest'
import { onlineStoreConformance } from '../src/index.js'
import { ReferenceOnlineStore, type ReferenceStoreBugs } from './online-reference-store.js'

const CHILD = 'LARDER_ONLINE_SELF_CHECK'

const VARIANTS: Record<string, { bugs: ReferenceStoreBugs; mustFail: string[] }> = {
  none: { bugs: {}, mustFail: [] },
  lastWriteWins: {
    bugs: { lastWriteWins: true },
    mustFail: [
      'a late, older row never overwrites a newer one',
      'equal event_ts: the greater created_ts wins',
      're-writing the same rows is a no-op that writes 0 rows',
      'equal event_ts: a null created_ts loses to a non-null one',
      'returns the number of rows actually written',
      'one key twice in a batch: the winner of the two is stored',
    ],
  },
  nullCreatedWins: {
    bugs: { nullCreatedWins: true },
    mustFail: ['equal event_ts: a null created_ts loses to a non-null one'],
  },
  int64AsNumber: {
    bugs: { int64AsNumber: true },
    mustFail: [
      'every value type round-trips exactly',
      'values come back with the JavaScript type of their value type',
      'a newer event_ts replaces the stored row',
    ],
  },
  millisEventTs: {
    bugs: { millisEventTs: true },
    mustFail: ['event timestamps come back to the microsecond'],
  },
  oneTablePerProject: {
    bugs: { oneTablePerProject: true },
    mustFail: ['two views of the same entity are kept apart'],
  },
  keepDroppedData: {
    bugs: { keepDroppedData: true },
    mustFail: [
      'dropping a view removes its data and keeps the others',
      'teardown removes the data; tearing down twice is harmless',
    ],
  },
}

if (process.env[CHILD] === '1') {
  for (const [name, { bugs }] of Object.entries(VARIANTS)) {
    onlineStoreConformance({
      name,
      createStore: () => new ReferenceOnlineStore(bugs),
      largeBatch: { writeRows: 2_000, readKeys: 500 },
    })
  }
} else {
  test('the online suite fails stores with each bug and passes the store without', {
    timeout: 120_000,
  }, () => {
    const here = dirname(fileURLToPath(import.meta.url))
    const require = createRequire(import.meta.url)
    const vitestBin = join(dirname(require.resolve('vitest/package.json')), 'vitest.mjs')
    const dir = mkdtempSync(join(tmpdir(), 'larder-online-self-check-'))
    try {
      const output = join(dir, 'report.json')
      const run = spawnSync(
        process.execPath,
        [
          vitestBin,
          'run',
          fileURLToPath(import.meta.url),
          '--reporter=json',
          `--outputFile=${output}`,
        ],
        { cwd: join(here, '..'), env: { ...process.env, [CHILD]: '1' }, encoding: 'utf8' },
      )
      const report = JSON.parse(readFileSync(output, 'utf8')) as {
        testResults: Array<{
          assertionResults: Array<{ ancestorTitles: string[]; title: string; status: string }>
        }>
      }
      const results = report.testResults.flatMap((file) => file.assertionResults)
      expect(results.length, run.stderr).toBeGreaterThan(0)
      for (const [name, { mustFail }] of Object.entries(VARIANTS)) {
        const mine = results.filter(
          (r) => r.ancestorTitles[0] === `online store conformance: ${name}`,
        )
        expect(mine.length, name).toBeGreaterThan(20)
        const failed = mine.filter((r) => r.status === 'failed').map((r) => r.title)
        if (mustFail.length === 0) expect(failed, `${name} should pass everything`).toEqual([])
        for (const title of mustFail)
          expect(failed, `${name} should fail '${title}'`).toContain(title)
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
}
