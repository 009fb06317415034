// Twin of the Python README's error handling function for PoolHandler: a retry with new
// arguments, or a PoolFutureException(args, exception) to report.
import { type ErrorDecision, PoolFutureException, PoolHandler } from 'qdmp'

function handleError(error: Error, args: string): ErrorDecision<string> {
  if (error.name === 'FileExistsError') {
    console.log(`File already exists: ${args}`)
    return [false, null, new PoolFutureException(args, error)]
  }
  if (error.name === 'ValueError') {
    console.log(`ValueError: ${JSON.stringify(args)}`)
    return [true, 'the lazy dog', null] // recoverable: run again with new arguments
  }
  return [false, null, new PoolFutureException(args, error)]
}

const handler = new PoolHandler<string, number[]>(new URL('./stateful-tasks.mts', import.meta.url), {
  handleError,
  maxRetries: 1,
})
await handler.start(2)
handler.addTasks(['the quick brown fox', '', '!the dog'])
const [results, errors] = await handler.processResults()
await handler.stop()

console.log('results:', JSON.stringify(results.sort()))
for (const error of errors) console.log(`reported: ${(error.exception as Error).name} for ${JSON.stringify(error.args)}`)
