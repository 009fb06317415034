// Twin of the Python README's "Validation": arguments are checked in the producer before they
// are queued. Here only multiples of 13 are valid; you could check that a file exists instead.
import { ThreadPoolHandler } from 'qdmp'

function isMultipleOf13(args: number): boolean {
  return args % 13 === 0
}

const handler = new ThreadPoolHandler((x: number) => x ** 2, { validateArgs: isMultipleOf13 })
await handler.start(2)
const accepted = handler.addTasks(Array.from({ length: 40 }, (_, i) => i + 1))
const [results] = await handler.processResults()
const stats = handler.stats()
await handler.stop()

console.log(`accepted ${accepted} of ${stats.submitted}, discarded ${stats.discardedArgs}`)
console.log('results:', results.sort((a, b) => a - b).join(' '))
