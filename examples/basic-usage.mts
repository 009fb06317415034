// Twin of the Python README's "Basic usage": start, add tasks, process results, stop.
import { ThreadPoolHandler } from 'qdmp'

const handler = new ThreadPoolHandler<number, number>(new URL('./tasks.mts', import.meta.url))
await handler.start(4)
handler.addTasks([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
const [results, errors] = await handler.processResults()
await handler.stop()

console.log('results:', results.sort((a, b) => a - b).join(' '))
console.log('errors:', errors.length)
