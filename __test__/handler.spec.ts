import test from 'ava'

import { ThreadPoolHandler } from '../dist/index.mjs'

test('the README example squares 1..10', async (t) => {
  const handler = new ThreadPoolHandler((x: number) => x * x)
  await handler.start(2)
  t.is(handler.addTasks([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), 10)
  const [results, errors] = await handler.processResults()
  t.deepEqual([...results].sort((a, b) => a - b), [1, 4, 9, 16, 25, 36, 49, 64, 81, 100])
  t.deepEqual(errors, [])
  t.deepEqual(await handler.stop(), { unprocessed: [] })
})
