import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

import test from 'ava'

import { inheritableExecArgv, inheritableNodeOptions } from '../dist/exec-argv.js'

test('child processes inherit loaders and V8 flags, not what the parent was told to run or its inspector', (t) => {
  const cases: [string[], string[]][] = [
    [['-e', 'code'], []],
    [['--eval=code'], []],
    [['-p', '1 + 1'], []],
    [['-pe', 'x'], []],
    // Node never takes an option-like word as a value: `-p` is then a flag, and what follows stays.
    [['-p', '--stack-size=900'], ['--stack-size=900']],
    [['--print', '--import', './show.js'], ['--import', './show.js']],
    [['--print', 'x', '--stack-size=900'], ['--stack-size=900']],
    [['--import', '@swc-node/register/esm-register', '-e', 'code'], ['--import', '@swc-node/register/esm-register']],
    [['-r', 'ts-node/register', '--test', '--test-reporter', 'spec', '--test-only'], ['-r', 'ts-node/register']],
    [['--test-reporter=dot', '--test-name-pattern', 'x', '--max-old-space-size=64'], ['--max-old-space-size=64']],
    [['--watch', '--watch-path', 'src', '--watch-preserve-output', '--enable-source-maps'], ['--enable-source-maps']],
    [['--inspect', '--inspect-brk=0.0.0.0:9230', '--inspect-port', '9231', '--inspect_wait', '--inspect-brk-node'], []],
    [['--input-type=module', '-i', '-c', '--run', 'build', '--conditions=dev'], ['--conditions=dev']],
    [['--loader', 'x.mjs', '--experimental-vm-modules', '--env-file=.env'], ['--loader', 'x.mjs', '--experimental-vm-modules', '--env-file=.env']],
    [['--snapshot-blob', 'snap.blob', '--build-snapshot', '--build-snapshot-config=c.json', '--no-warnings'], ['--no-warnings']],
  ]
  for (const [given, kept] of cases) t.deepEqual(inheritableExecArgv(given), kept, given.join(' '))
})

test('NODE_OPTIONS loses the same options, split and quoted as Node splits it; otherwise it is kept as written', (t) => {
  t.is(inheritableNodeOptions('--inspect-brk --max-old-space-size=64'), '--max-old-space-size=64')
  t.is(inheritableNodeOptions('--require "/a b/c.js"  --watch-path src'), '--require "/a b/c.js"')
  t.is(inheritableNodeOptions('--title "a \\"q\\" b" --inspect=0'), '--title "a \\"q\\" b"')
  t.is(inheritableNodeOptions('  --stack-size=900   -r x '), '  --stack-size=900   -r x ', 'nothing left out: the value itself')
  // Node splits on spaces only, and makes no word of "": the port is --inspect-port's value.
  t.is(inheritableNodeOptions('--title a\tb --inspect-port "" 9229'), '--title a\tb')
  t.is(inheritableNodeOptions('-r C:\\dir\\x.js --inspect'), '-r "C:\\\\dir\\\\x.js"', 'a backslash outside quotes is literal, and quoted back')
})

test('a child process does not get the inspector through NODE_OPTIONS', (t) => {
  const show = `
const { ProcessPoolHandler } = require(${JSON.stringify(fileURLToPath(new URL('../dist/index.js', import.meta.url)))})
const handler = new ProcessPoolHandler(() => process.env.NODE_OPTIONS)
handler.start(1).then(async () => {
  console.log(JSON.stringify(await handler.run(0)))
  await handler.stop()
})`
  // The parent opens an inspector on a free port (harmless); a child that inherited it would too.
  const env = { ...process.env, NODE_OPTIONS: '--inspect=0 --max-old-space-size=300' }
  const run = spawnSync(process.execPath, ['-e', show], { encoding: 'utf8', timeout: 60_000, env })
  t.is(run.status, 0, run.stderr)
  t.is(JSON.parse(run.stdout.trim()), '--max-old-space-size=300')
  t.is(run.stderr.match(/Debugger listening/g)?.length, 1, 'only the parent listens')
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
