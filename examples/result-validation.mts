// Twin of the Python README's "Result Validation": results are checked in the producer when they
// arrive. Here a result is kept only if it is a perfect square.
import { ThreadPoolHandler } from 'qdmp'

function isPerfectSquare(result: number): boolean {
  return Number.isInteger(Math.sqrt(result))
}

// The task adds 7, so only some results are perfect squares.
const handler = new ThreadPoolHandler((x: number) => x + 7, { validateResult: isPerfectSquare })
await handler.start(2)
handler.addTasks(Array.from({ length: 30 }, (_, i) => i))
const [results] = await handler.processResults()
const { discardedResults } = handler.stats()
await handler.stop()

console.log('kept:', results.sort((a, b) => a - b).join(' '))
console.log(`discarded ${discardedResults}`)
