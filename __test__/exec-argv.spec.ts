import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

import test from 'ava'

import { inheritableExecArgv } from '../dist/exec-argv.js'

test('child processes inherit loaders and V8 flags, not what the parent was told to run or its inspector', (t) => {
  const cases: [string[], string[]][] = [
    [['-e', 'code'], []],
    [['--eval=code'], []],
    [['-p', '1 + 1'], []],
    [['-pe', '-1'], []], // a value that looks like an option is still the value
    [['--print', 'x', '--stack-size=900'], ['--stack-size=900']],
    [['--import', '@swc-node/register/esm-register', '-e', 'code'], ['--import', '@swc-node/register/esm-register']],
    [['-r', 'ts-node/register', '--test', '--test-reporter', 'spec', '--test-only'], ['-r', 'ts-node/register']],
    [['--test-reporter=dot', '--test-name-pattern', 'x', '--max-old-space-size=64'], ['--max-old-space-size=64']],
    [['--watch', '--watch-path', 'src', '--watch-preserve-output', '--enable-source-maps'], ['--enable-source-maps']],
    [['--inspect', '--inspect-brk=0.0.0.0:9230', '--inspect-port', '9231', '--inspect_wait'], []],
    [['--input-type=module', '-i', '-c', '--run', 'build', '--conditions=dev'], ['--conditions=dev']],
    [['--loader', 'x.mjs', '--experimental-vm-modules', '--env-file=.env'], ['--loader', 'x.mjs', '--experimental-vm-modules', '--env-file=.env']],
  ]
  for (const [given, kept] of cases) t.deepEqual(inheritableExecArgv(given), kept, given.join(' '))
})

// The program runs a ProcessPoolHandler with the default execArgv and prints what it computed.
// Were the eval'd code inherited, each child would run it again instead of qdmp's entry script:
// the guard then makes that child exit at once (a failed start), rather than start a pool of
// its own and so on without end.
const entry = fileURLToPath(new URL('../dist/index.js', import.meta.url))
const program = `
if (process.argv.length > 1) { console.error('a child ran the parent program'); process.exit(7) }
const { ProcessPoolHandler } = require(${JSON.stringify(entry)})
const handler = new ProcessPoolHandler((x) => x * 2)
handler.start(2).then(async () => {
  const results = await Promise.all([1, 2, 3].map((x) => handler.run(x)))
  await handler.stop()
  console.log(JSON.stringify(results))
})`

for (const [how, argv] of [
  ['node -e', ['-e', program]],
  ['node --eval= with --input-type', ['--input-type=commonjs', `--eval=${program}`]],
  ['node -p', ['-p', `${program}; ''`]],
] as const) {
  test(`a ProcessPoolHandler started by \`${how}\` runs its tasks in children that run qdmp, not the program`, (t) => {
    const run = spawnSync(process.execPath, argv, { encoding: 'utf8', timeout: 60_000 })
    t.is(run.status, 0, run.stderr)
    t.is(run.stdout.trim().split('\n').filter((line) => line.startsWith('['))[0], '[2,4,6]')
    t.notRegex(run.stderr, /a child ran the parent program/)
  })
}
