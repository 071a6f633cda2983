// A vitest reporter that closes each run with one line per skipped test and why: the note of
// `ctx.skip(note)`, else the test's own name (skipped tests here name their reason). Every
// package's `test` script adds it after the default reporter, so no skip goes unnoticed.
import { relative } from 'node:path'

export default class SkippedTestsReporter {
  onInit(vitest) {
    this.root = vitest.config.root
  }

  onTestRunEnd(testModules) {
    const lines = []
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const result = test.result()
        if (result.state !== 'skipped') continue
        const file = relative(this.root ?? process.cwd(), module.moduleId)
        lines.push(`  ${file} > ${test.fullName}${result.note ? `: ${result.note}` : ''}`)
      }
    }
    if (lines.length === 0) return
    process.stdout.write(
      `\nSkipped ${lines.length} test(s), with their reasons:\n${lines.join('\n')}\n`,
    )
  }
}
