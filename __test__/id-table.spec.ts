import test, { type ExecutionContext } from 'ava'

import { IdTable } from '../dist/id-table.js'

/** A small deterministic generator, so that a failure replays. */
function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 2 ** 32
  }
}

const VALUES: unknown[] = [0, -0, 1.5, Number.NaN, 2 ** 40, -(2 ** 53), undefined, null, 'text', { an: 'object' }, [1, 2]]

/** Checks every key ever used against a Map that saw the same operations. */
function agrees(t: ExecutionContext, table: IdTable<unknown>, model: Map<number, unknown>, used: number[], step: number): void {
  t.is(table.size, model.size, `size after step ${step}`)
  for (const key of used) {
    t.is(table.has(key), model.has(key), `has(${key}) after step ${step}`)
    t.true(Object.is(table.get(key), model.get(key)), `get(${key}) after step ${step}`)
  }
  t.deepEqual([...table.keys()].sort((a, b) => a - b), [...model.keys()].sort((a, b) => a - b), `keys() after step ${step}`)
}

for (const maxCapacity of [16, 64, 1 << 16]) {
  test(`IdTable (largest ring ${maxCapacity}) answers like a Map: rising keys, stragglers, old keys set again`, (t) => {
    const next = random(maxCapacity)
    const table = new IdTable<unknown>(maxCapacity)
    const model = new Map<number, unknown>()
    const used = new Set<number>()
    let high = 1
    for (let step = 0; step < 4000; step++) {
      const r = next()
      const value = VALUES[Math.floor(next() * VALUES.length)]
      let key: number
      if (r < 0.45) key = high++ // the common case: the next id
      else if (r < 0.5) key = (high += 1 + Math.floor(next() * 200)) // a jump past the ring
      else if (r < 0.55) key = Math.max(0, high - 1 - Math.floor(next() * 300)) // an older key, maybe behind the ring
      else {
        // delete: mostly recent keys, now and then a straggler or a key never set
        const keys = [...model.keys()]
        key = keys.length > 0 && next() < 0.9 ? keys[Math.floor(next() * keys.length)]! : high + 5
        t.is(table.delete(key), model.delete(key), `delete(${key}) at step ${step}`)
        used.add(key)
        continue
      }
      table.set(key, value)
      model.set(key, value)
      used.add(key)
      if (step % 97 === 0) agrees(t, table, model, [...used], step)
    }
    agrees(t, table, model, [...used], 4000)
    table.clear()
    t.is(table.size, 0)
    t.deepEqual(table.keys(), [])
    for (const key of used) t.false(table.has(key))
  })
}

test('IdTable keeps a long-lived key while a million others come and go', (t) => {
  const table = new IdTable<string>()
  table.set(1, 'long task')
  for (let key = 2; key < 1_000_000; key++) {
    table.set(key, 'short')
    if (key > 1_001) table.delete(key - 1_000)
  }
  t.is(table.get(1), 'long task')
  t.is(table.size, 1 + 1_000)
  t.true(table.delete(1))
  t.false(table.has(1))
  t.is(table.size, 1_000)
})
