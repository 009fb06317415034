import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import test from 'ava'

import { fixture, gate } from './helpers.js'

// The `qdmp` command as users run it: the built bin script in a child process.
const BIN = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url))
const FAULTS = fixture('faults.mjs')
const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version

const dir = (): string => mkdtempSync(join(tmpdir(), 'qdmp-cli-'))
const jsonl = (values: unknown[]): string => values.map((v) => JSON.stringify(v)).join('\n') + '\n'
const ok = (value: unknown) => ({ kind: 'ok', value })

function qdmp(args: string[], input = ''): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', timeout: 60_000 })
}

const lines = (text: string): unknown[] => text.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l))

test('--help and --version print and exit 0', (t) => {
  const help = qdmp(['--help'])
  t.is(help.status, 0)
  t.regex(help.stdout, /^Usage: qdmp run <module>/)
  t.regex(help.stdout, /--ordered/)
  const v = qdmp(['--version'])
  t.is(v.status, 0)
  t.is(v.stdout.trim(), version)
})

test('bad usage exits 2 with the mistake named and the usage shown', (t) => {
  const cases: [string[], RegExp][] = [
    [[], /no command given/],
    [['go', FAULTS], /unknown command "go"/],
    [['run'], /needs the module to run/],
    [['run', FAULTS, '--pool', 'fiber'], /--pool must be thread or process, got "fiber"/],
    [['run', FAULTS, '--workers', '0'], /--workers must be a whole number of at least 1, got "0"/],
    [['run', FAULTS, '--timeout', '1.5'], /--timeout must be a whole number/],
    [['run', FAULTS, '--colour'], /Unknown option '--colour'/],
    [['run', FAULTS, 'extra'], /unexpected arguments after the module: "extra"/],
  ]
  for (const [args, message] of cases) {
    const out = qdmp(args)
    t.is(out.status, 2, args.join(' '))
    t.regex(out.stderr, message)
    t.regex(out.stderr, /Usage: qdmp run/)
  }
})

test('a missing module, export or input file fails at once with exit 2 and a clear message', (t) => {
  const missing = qdmp(['run', './no-such-task.mjs'], '1\n')
  t.is(missing.status, 2)
  t.regex(missing.stderr, /cannot find the module \.\/no-such-task\.mjs \(looked for .*no-such-task\.mjs\)/)
  const noExport = qdmp(['run', FAULTS, '--export', 'nope'], '1\n')
  t.is(noExport.status, 2)
  t.regex(noExport.stderr, /nope/)
  const noInput = qdmp(['run', FAULTS, '--input', join(dir(), 'absent.jsonl')])
  t.is(noInput.status, 2)
  t.regex(noInput.stderr, /cannot read --input .*absent\.jsonl/)
})

test('--ordered writes results in input order; bad JSON lines and failures become error records, and the run goes on', (t) => {
  const folder = dir()
  const input = join(folder, 'in.jsonl')
  const errors = join(folder, 'errors.jsonl')
  const jobs = Array.from({ length: 40 }, (_, i) => (i % 7 === 3 ? { kind: 'sleep', ms: 20, value: i } : ok(i)))
  writeFileSync(input, jsonl(jobs.slice(0, 10)) + '{not json\n\n' + jsonl([{ kind: 'throw', value: 'x' }]) + jsonl(jobs.slice(10)))
  const out = qdmp(['run', FAULTS, '--input', input, '--errors', errors, '--ordered', '--workers', '2'])
  t.is(out.status, 1, out.stderr)
  t.deepEqual(lines(out.stdout), jobs.map((j) => j.value))
  const records = lines(readFileSync(errors, 'utf8')) as Record<string, any>[]
  t.is(records.length, 2)
  const bad = records.find((r) => r.code === 'ERR_QDMP_BAD_INPUT')!
  t.like(bad, { line: 11, input: '{not json' })
  t.regex(bad.error.message, /^line 11 is not JSON/)
  const failed = records.find((r) => r.code === 'ERR_QDMP_TASK_FAILED')!
  t.like(failed, { line: 13, args: { kind: 'throw', value: 'x' }, error: { name: 'Error', message: 'failed on purpose: x' } })
})

test('stdin to stdout by default, unordered, every result exactly once; exit 0 when all succeed', (t) => {
  const values = Array.from({ length: 500 }, (_, i) => i)
  const out = qdmp(['run', fixture('named.mjs'), '--export', 'cube'], jsonl(values))
  t.is(out.status, 0, out.stderr)
  t.deepEqual((lines(out.stdout) as number[]).sort((a, b) => a - b), values.map((x) => x ** 3).sort((a, b) => a - b))
  t.is(out.stderr, '', 'quiet when stderr is not a terminal')
})

test('--pool process, --timeout and --retries: a hung task times out, a flaky one succeeds on retry', (t) => {
  const folder = dir()
  const jobs = [ok(1), { kind: 'spin' }, { kind: 'flaky', file: join(folder, 'flaky'), value: 3 }]
  const out = qdmp(['run', FAULTS, '--pool', 'process', '--workers', '2', '--timeout', '500', '--retries', '1', '--ordered'], jsonl(jobs))
  t.is(out.status, 1, out.stderr)
  t.deepEqual(lines(out.stdout), [1, 3])
  const [record] = lines(out.stderr) as Record<string, any>[]
  t.like(record, { line: 2, code: 'ERR_QDMP_TASK_TIMEOUT', retriesExhausted: true, args: { kind: 'spin' }, error: { code: 'ERR_QDMP_TASK_TIMEOUT' } })
  t.regex(record!.error.message, /ran longer than 500 ms \(--timeout\).*Raise --timeout, or pass --retries <n>/, 'the hint names the CLI\'s options, not the library\'s')
  const once = qdmp(['run', FAULTS, '--timeout', '500', '--ordered'], jsonl([{ kind: 'flaky', file: join(folder, 'other'), value: 4 }]))
  t.is(once.status, 1, 'without --retries the first failure is final')
  t.like(lines(once.stderr)[0] as object, { line: 1, code: 'ERR_QDMP_TASK_FAILED' })
})

test('--progress shows progress and a summary on stderr even when piped', (t) => {
  const out = qdmp(['run', FAULTS, '--progress'], jsonl([ok(1), ok(2)]))
  t.is(out.status, 0, out.stderr)
  t.regex(out.stderr, /qdmp: 2 done, 0 failed in [\d.]+s/)
})

test('results are written as JSON: typed arrays as arrays, bigints as strings, undefined as null', (t) => {
  const module = join(dir(), 'shapes.mjs')
  writeFileSync(module, 'export default (x) => x === 0 ? undefined : x === 1 ? new Uint8Array([1, 2]) : x === 2 ? 10n ** 20n : new Map([["a", x]])\n')
  const out = qdmp(['run', module, '--ordered'], jsonl([0, 1, 2, 3]))
  t.is(out.status, 0, out.stderr)
  t.deepEqual(lines(out.stdout), [null, [1, 2], '100000000000000000000', { a: 3 }])
})

function waitFor(child: ChildProcess, stream: 'stdout' | 'stderr', pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = ''
    child[stream]!.on('data', (chunk: Buffer) => {
      text += chunk.toString()
      if (pattern.test(text)) resolve(text)
    })
    child.once('exit', () => reject(new Error(`exited before ${pattern}: ${text}`)))
  })
}

test('Ctrl-C stops reading, lets the running task finish and reports the queued ones; a second Ctrl-C forces', async (t) => {
  const { file, open } = gate()
  const child = spawn(process.execPath, [BIN, 'run', FAULTS, '--workers', '1', '--window', '4', '--ordered'], { stdio: ['pipe', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  // The first line runs at once (and proves the run is under way); the second blocks; more queue behind it.
  child.stdin.write(jsonl([ok('first'), { kind: 'block', file, value: 'running' }, ok('queued-1'), ok('queued-2')]))
  await waitFor(child, 'stdout', /"first"/)
  await new Promise((resolve) => setTimeout(resolve, 300)) // let the queued lines be read
  child.kill('SIGINT')
  await new Promise((resolve) => setTimeout(resolve, 300))
  open()
  t.is(await exited, 130)
  t.deepEqual(lines(stdout), ['first', 'running'], 'the running task finished and was written')
  const records = stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l))
  t.deepEqual(records.map((r) => [r.line, r.code]), [[3, 'ERR_QDMP_CANCELLED'], [4, 'ERR_QDMP_CANCELLED']])
  t.regex(stderr, /interrupted; input after line 4 was not read/)

  const forced = spawn(process.execPath, [BIN, 'run', FAULTS, '--workers', '1'], { stdio: ['pipe', 'pipe', 'pipe'] })
  let forcedErr = ''
  forced.stderr.on('data', (c: Buffer) => (forcedErr += c.toString()))
  const forcedExit = new Promise<number | null>((resolve) => forced.once('exit', (code) => resolve(code)))
  forced.stdin.write(jsonl([ok('go'), { kind: 'spin' }]))
  await waitFor(forced, 'stdout', /"go"/)
  await new Promise((resolve) => setTimeout(resolve, 200))
  forced.kill('SIGINT')
  await new Promise((resolve) => setTimeout(resolve, 200))
  forced.kill('SIGINT')
  t.is(await forcedExit, 130, 'a second Ctrl-C ends even a task that never returns')
  t.regex(forcedErr, /"line":2,"code":"ERR_QDMP_CANCELLED"/)
})

test('a large input streams through and comes out complete and in order', (t) => {
  const folder = dir()
  const input = join(folder, 'big.jsonl')
  const count = 100_000
  writeFileSync(input, Array.from({ length: count }, (_, i) => String(i)).join('\n') + '\n')
  const out = spawnSync(process.execPath, [BIN, 'run', fixture('named.mjs'), '--export', 'cube', '--input', input, '--output', join(folder, 'out.jsonl'), '--ordered'], {
    encoding: 'utf8',
    timeout: 120_000,
  })
  t.is(out.status, 0, out.stderr)
  const results = readFileSync(join(folder, 'out.jsonl'), 'utf8').trimEnd().split('\n')
  t.is(results.length, count)
  t.is(results[count - 1], String((count - 1) ** 3))
})

test('Ctrl-C at a terminal signals every process of the group: process workers survive it and finish their task', async (t) => {
  const { file, open } = gate()
  // Its own process group, signalled as a whole, as a terminal does on Ctrl-C.
  const child = spawn(process.execPath, [BIN, 'run', FAULTS, '--pool', 'process', '--workers', '1', '--ordered'], { stdio: ['pipe', 'pipe', 'pipe'], detached: true })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  child.stdin.write(jsonl([ok('first'), { kind: 'block', file, value: 'running' }]))
  await waitFor(child, 'stdout', /"first"/)
  await new Promise((resolve) => setTimeout(resolve, 300))
  process.kill(-child.pid!, 'SIGINT')
  await new Promise((resolve) => setTimeout(resolve, 300))
  open()
  t.is(await exited, 130, stderr)
  t.deepEqual(lines(stdout), ['first', 'running'], 'the worker process finished its task')
})

test('a reader that goes away (| head) ends the run quietly; a module that cannot load leaves --output untouched', async (t) => {
  const child = spawn(process.execPath, [BIN, 'run', fixture('named.mjs'), '--export', 'cube', '--ordered'], { stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  child.stdin.on('error', () => {}) // it stops reading once its reader is gone
  child.stdin.end(jsonl(Array.from({ length: 200_000 }, (_, i) => i)))
  await waitFor(child, 'stdout', /\n/)
  child.stdout.destroy()
  t.is(await exited, 1)
  t.is(stderr, '', 'no records of cancelled lines, no crash')

  const folder = dir()
  const output = join(folder, 'results.jsonl')
  writeFileSync(output, 'precious\n')
  const out = qdmp(['run', FAULTS, '--export', 'nope', '--output', output], '1\n')
  t.is(out.status, 2)
  t.is(readFileSync(output, 'utf8'), 'precious\n')
})
