import { spawnSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import test from 'ava'

// A consumer project outside this package, where `qdmp` resolves through node_modules as it does
// for users. (The installed-tarball variant, with no source tree around it, is test:install.)
const root = fileURLToPath(new URL('..', import.meta.url))
const project = mkdtempSync(join(tmpdir(), 'qdmp-consumer-'))
mkdirSync(join(project, 'node_modules'))
symlinkSync(root, join(project, 'node_modules', 'qdmp'), 'dir')
symlinkSync(join(root, 'node_modules', '@types'), join(project, 'node_modules', '@types'), 'dir')
writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true }))
cpSync(fileURLToPath(new URL('./fixtures/consumers', import.meta.url)), project, { recursive: true })
test.after.always(() => rmSync(project, { recursive: true, force: true }))

const consumer = (name: string): string => join(project, name)

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, args, { cwd: project, encoding: 'utf8', timeout: 60_000 })
}

test("require('qdmp') works for CommonJS users", (t) => {
  const out = run([consumer('consumer.cjs')])
  t.is(out.status, 0, out.stderr)
  t.deepEqual(JSON.parse(out.stdout), { results: [1, 4, 9], qdmpError: 'function' })
})

test("import from 'qdmp' works for ES module users and shares one instance with require()", (t) => {
  const out = run([consumer('consumer.mjs')])
  t.is(out.status, 0, out.stderr)
  t.deepEqual(JSON.parse(out.stdout), { results: [2, 3, 4], same: true })
})

test('the published typings type-check a TypeScript consumer (tsc, NodeNext)', (t) => {
  const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url))
  const out = run([
    tsc,
    '--ignoreConfig',
    '--noEmit',
    '--strict',
    '--module',
    'NodeNext',
    '--moduleResolution',
    'NodeNext',
    '--target',
    'ES2022',
    '--types',
    'node',
    consumer('consumer.mts'),
  ])
  t.is(out.status, 0, out.stdout + out.stderr)
})
