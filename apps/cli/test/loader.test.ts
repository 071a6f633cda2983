// Repo loading through the CLI: .larderignore, extensionless relative imports, helper modules.
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, test } from 'vitest'

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url))
const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' })

test('definitions split over files with extensionless imports; ignored files are not loaded', () => {
  const repo = join(mkdtempSync(join(tmpdir(), 'larder-loader-')), 'repo')
  expect(run(['init', repo]).status).toBe(0)
  mkdirSync(join(repo, 'lib'))
  writeFileSync(
    join(repo, 'lib', 'entities.ts'),
    "import { entity, t } from '@larder/core'\nexport const rider = entity({ name: 'rider', joinKeys: ['rider_id'], valueType: t.string })\n",
  )
  writeFileSync(
    join(repo, 'riders.ts'),
    "import { featureService } from '@larder/core'\nimport { rider } from './lib/entities'\nimport { driverStats } from './features'\nexport { rider }\nexport const svc = featureService({ name: 'rider_svc', features: [driverStats.select('conv_rate')] })\n",
  )
  mkdirSync(join(repo, 'scripts'))
  writeFileSync(join(repo, 'scripts', 'broken.ts'), 'throw new Error("must not be loaded")\n')
  writeFileSync(join(repo, 'notes.test.ts'), 'throw new Error("tests are not definitions")\n')
  const plan = run(['-c', repo, 'plan'])
  expect(plan.stderr).toBe('')
  expect(plan.status).toBe(0)
  expect(plan.stdout).toContain('Created entity rider')
  expect(plan.stdout).toContain('Created feature service rider_svc')
  // Without the ignore entry the broken script is loaded and named in the error.
  writeFileSync(join(repo, '.larderignore'), '# nothing ignored\n')
  const broken = run(['-c', repo, 'plan'])
  expect(broken.status).not.toBe(0)
  expect(broken.stderr).toMatch(/cannot load scripts\/broken.ts: must not be loaded/)
})
