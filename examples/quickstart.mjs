// The README example: square 1..10 on a pool of worker threads.
import { ThreadPoolHandler } from 'qdmp'

const handler = new ThreadPoolHandler((x) => x * x)
await handler.start(2)
handler.addTasks([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
const [results, errors] = await handler.processResults()
await handler.stop()
console.log(results.sort((a, b) => a - b), errors)
