import { spawnSync } from 'node:child_process'
import test from 'ava'

import { eventually, fixture } from './helpers.js'

const dist = new URL('../dist/index.mjs', import.meta.url).href

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

for (const how of ['exit', 'kill'] as const) {
  test(`no worker process outlives its producer, even mid-task, when the producer ${how === 'exit' ? 'exits without stop()' : 'is killed with SIGKILL'}`, async (t) => {
    const run = spawnSync(process.execPath, [fixture('orphan-parent.mjs'), dist, fixture('faults.mjs'), how], {
      encoding: 'utf8',
      timeout: 60_000,
    })
    t.is(run.signal ?? run.status, how === 'exit' ? 0 : 'SIGKILL', run.stderr)
    const pids = JSON.parse(run.stdout.trim().split('\n')[0]!) as number[]
    t.true(pids.length >= 1)
    await eventually(() => pids.every((pid) => !alive(pid)), `workers ${pids.join(', ')} exit`, 5000)
    t.deepEqual(pids.filter(alive), [])
  })
}

test('a process that used a ProcessPoolHandler and called stop() exits on its own', (t) => {
  const script = `
    const { ProcessPoolHandler } = await import(${JSON.stringify(dist)})
    const handler = new ProcessPoolHandler(${JSON.stringify(fixture('faults.mjs'))}, { execArgv: [] })
    await handler.start(2)
    handler.addTasks([{ kind: 'ok', value: 1 }, { kind: 'ok', value: 2 }])
    const [results] = await handler.processResults()
    await handler.stop()
    console.log(JSON.stringify(results.sort()))
  `
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 })
  t.is(run.status, 0, run.stderr)
  t.is(run.stdout.trim(), '[1,2]')
})

test('an idle ProcessPoolHandler does not keep Node alive even without stop()', (t) => {
  const script = `
    const { ProcessPoolHandler } = await import(${JSON.stringify(dist)})
    const handler = new ProcessPoolHandler(${JSON.stringify(fixture('faults.mjs'))}, { execArgv: [] })
    await handler.start(1)
    handler.addTasks([{ kind: 'ok', value: 5 }])
    console.log(JSON.stringify(await handler.processResults()))
  `
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 })
  t.is(run.status, 0, run.stderr)
  t.is(run.stdout.trim(), '[[5],[]]')
})

test('stop() settles, and the process stays alive for it, when a worker process\'s channel ends after its exit', (t) => {
  // The worker's own child holds the channel for half a second after the worker exits on stop():
  // the producer must wait for that end (what the worker wrote counts) without the process
  // running out of things to keep it alive, which used to end it silently, stop() unsettled.
  if (process.platform !== 'linux') return t.pass('the fixture finds its sockets through /proc')
  const script = `
    const { ProcessPoolHandler } = await import(${JSON.stringify(dist)})
    const handler = new ProcessPoolHandler(${JSON.stringify(fixture('holds-channel.mjs'))}, { execArgv: [] })
    await handler.start(1)
    const results = await Promise.all([1, 2, 3].map((x) => handler.run(x)))
    await handler.stop()
    console.log(JSON.stringify(results))
  `
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 })
  t.is(run.status, 0, run.stderr)
  t.is(run.stdout.trim(), '[2,4,6]', 'stop() settled before the process ended')
})

test('a task that writes to file descriptor 3 in a worker process writes into nothing, not into the engine channel', async (t) => {
  const { ProcessPoolHandler } = (await import(dist)) as typeof import('../dist/index.js')
  // Some tools log to fd 3 by convention; in a worker process it must not reach the producer.
  const handler = new ProcessPoolHandler(
    async (value: number) => {
      const { writeSync } = await import('node:fs')
      writeSync(3, 'a log line that is not a frame\n')
      return value * 2
    },
    { execArgv: [] },
  )
  await handler.start(1)
  t.deepEqual(await Promise.all([1, 2, 3].map((v) => handler.run(v))), [2, 4, 6])
  t.like(handler.stats(), { completed: 3, failed: 0 })
  await handler.stop()
})
