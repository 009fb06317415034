import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

import test from 'ava'

// Every example is run as a user would run it, so the docs cannot drift from the code.
const root = fileURLToPath(new URL('..', import.meta.url))

function run(file: string, typescript: boolean): string {
  const loader = typescript ? ['--import', '@swc-node/register/esm-register'] : []
  const out = spawnSync(process.execPath, [...loader, `examples/${file}`], { cwd: root, encoding: 'utf8', timeout: 90_000 })
  if (out.status !== 0) throw new Error(`examples/${file} exited with ${out.status}:\n${out.stderr}`)
  return out.stdout
}

test('quickstart.mjs (the README example) prints the squares of 1..10', (t) => {
  const out = run('quickstart.mjs', false)
  t.deepEqual(
    out.replace(/\s+/g, ' ').trim(),
    '[ 1, 4, 9, 16, 25, 36, 49, 64, 81, 100 ] []',
  )
})

test('basic-usage.mts squares 1..10 with no errors', (t) => {
  t.is(run('basic-usage.mts', true), 'results: 1 4 9 16 25 36 49 64 81 100\nerrors: 0\n')
})

test('argument-validation.mts keeps only multiples of 13', (t) => {
  t.is(run('argument-validation.mts', true), 'accepted 3 of 40, discarded 37\nresults: 169 676 1521\n')
})

test('result-validation.mts keeps only perfect squares', (t) => {
  t.is(run('result-validation.mts', true), 'kept: 9 16 25 36\ndiscarded 26\n')
})

test('error-handling.mts retries ValueErrors with new arguments and reports FileExistsErrors', (t) => {
  const out = run('error-handling.mts', true)
  t.true(out.includes('ValueError: 1, retrying with 2\n'))
  t.true(out.includes('File already exists: 4\n'))
  t.true(out.includes('results: 4 4\n'), 'task 1 was retried as 2 and succeeded')
  t.true(out.endsWith('reported: FileExistsError for 4\n'))
})

test('pool-error-handling.mts retries a ValueError with new arguments and reports a FileExistsError as PoolFutureException', (t) => {
  const out = run('pool-error-handling.mts', true)
  t.true(out.includes('File already exists: !the dog\n'))
  t.true(out.includes('ValueError: ""\n'))
  t.true(out.includes('results: [[0,1,2,3],[0,6,7]]\n'), out)
  t.true(out.endsWith('reported: FileExistsError for "!the dog"\n'))
})

test('frozen-tasks.mts finds the frozen task, really cancels it, and resubmits it without losing anything', (t) => {
  t.is(
    run('frozen-tasks.mts', true),
    'frozen: {"n":7,"retry":false}\ncancelled: cancelled\nresults: 1 4 9 16 25 36 49 64 81\nerrors: 0 cancelled: 1\n',
  )
})
