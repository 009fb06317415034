// Twin of the Python README's "Error Handling": the hook decides, per failure, whether to run the
// task again with new arguments or to report it.
import { type ErrorDecision, ProcessingException, ThreadPoolHandler } from 'qdmp'

function handleError(error: Error, args: number, traceback: string): ErrorDecision<number> {
  if (error.name === 'FileExistsError') {
    // Not recoverable: report it, with the stack trace from the worker.
    console.log(`File already exists: ${args}`)
    return [false, null, new ProcessingException(error, traceback, args)]
  }
  if (error.name === 'ValueError') {
    // Recoverable: run again with new arguments (they go through validateArgs again).
    console.log(`ValueError: ${args}, retrying with ${args + 1}`)
    return [true, args + 1, null]
  }
  return [false, null, new ProcessingException(error, traceback, args)]
}

const handler = new ThreadPoolHandler<number, number>(
  { filename: new URL('./tasks.mts', import.meta.url), name: 'flakySquare' },
  { handleError, maxRetries: 3 },
)
await handler.start(1)
handler.addTasks([1, 2, 4])
const [results, errors] = await handler.processResults()
await handler.stop()

console.log('results:', results.sort((a, b) => a - b).join(' '))
for (const error of errors) console.log(`reported: ${(error.exception as Error).name} for ${error.args}`)
