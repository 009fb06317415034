// `qdmp run`: JSON lines in, a task per line on every core, JSON lines out, in constant memory
// (the map window bounds the lines between input and output). Ctrl-C stops reading and lets
// running tasks finish; a second Ctrl-C ends them at once.

import { once } from 'node:events'
import { createReadStream, createWriteStream, statSync } from 'node:fs'
import { resolve } from 'node:path'
import { createInterface } from 'node:readline'
import type { Readable, Writable } from 'node:stream'

import { ErrorCode, QdmpError } from '../errors'
import type { Handler } from '../handler'
import type { ErrorDecision, HandlerOptions } from '../options'
import { ProcessPoolHandler } from '../process-pool-handler'
import { ThreadPoolHandler } from '../thread-pool-handler'
import type { RunCommand } from './args'
import { type Counters, Progress } from './progress'
import { badLineRecord, failureRecord, jsonLine } from './records'

/** The streams and signals a run uses; the real process's in production, fakes in tests. */
export interface RunIO {
  stdin: Readable
  stdout: Writable
  stderr: Writable & { isTTY?: boolean }
  /** Registers the handler of Ctrl-C (and SIGTERM); returns a function that unregisters it. */
  onInterrupt(handler: () => void): () => void
}

/** A failure before any line ran: printed as `qdmp: <message>`, exit code 2. */
export class FatalError extends Error {
  override name = 'FatalError'
}

export const EXIT = { ok: 0, someFailed: 1, usage: 2, interrupted: 130 } as const

/** Writes, and when the stream's buffer is full waits until it drains (or fails, or closes). */
async function write(stream: Writable, text: string): Promise<void> {
  if (stream.write(text)) return
  await new Promise<void>((resolve) => {
    const done = (): void => {
      stream.off('drain', done).off('error', done).off('close', done)
      resolve()
    }
    stream.on('drain', done).on('error', done).on('close', done)
  })
}

function openInput(path: string, io: RunIO): { stream: Readable; size: number | undefined } {
  if (path === '-') return { stream: io.stdin, size: undefined }
  const file = resolve(path)
  let size: number
  try {
    const stat = statSync(file)
    if (!stat.isFile()) throw new FatalError(`--input ${path} is not a file`)
    size = stat.size
  } catch (error) {
    if (error instanceof FatalError) throw error
    throw new FatalError(`cannot read --input ${path}: ${(error as Error).message}`)
  }
  return { stream: createReadStream(file), size }
}

async function openOutput(path: string, name: string, fallback: Writable): Promise<Writable> {
  if (path === '-') return fallback
  const stream = createWriteStream(resolve(path))
  try {
    await once(stream, 'open')
  } catch (error) {
    throw new FatalError(`cannot write --${name} ${path}: ${(error as Error).message}`)
  }
  return stream
}

async function closeOutput(stream: Writable, fallback: Writable): Promise<void> {
  if (stream === fallback) return
  stream.end()
  await once(stream, 'finish')
}

function makeHandler(command: RunCommand): Handler {
  const filename = resolve(command.module)
  try {
    statSync(filename)
  } catch {
    throw new FatalError(`cannot find the module ${command.module} (looked for ${filename})`)
  }
  const target = command.exportName === undefined ? filename : { filename, name: command.exportName }
  const options: HandlerOptions = {
    ...(command.timeout !== undefined ? { taskTimeout: command.timeout } : {}),
    ...(command.retries > 0
      ? { maxRetries: command.retries, handleError: (_error: Error, args: unknown): ErrorDecision => [true, args, null] }
      : {}),
  }
  return command.pool === 'process' ? new ProcessPoolHandler(target, options) : new ThreadPoolHandler(target, options)
}

/** Runs `qdmp run` and resolves with the exit code. Throws {@link FatalError} for what stops it from starting. */
export async function runCommand(command: RunCommand, io: RunIO): Promise<number> {
  const handler = makeHandler(command)
  const input = openInput(command.input, io)
  const output = await openOutput(command.output, 'output', io.stdout)
  const errors = command.errors === undefined ? io.stderr : await openOutput(command.errors, 'errors', io.stderr)
  try {
    await handler.start(command.workers)
  } catch (error) {
    input.stream.destroy()
    throw new FatalError((error as Error).message)
  }

  const counters: Counters = { done: 0, failed: 0, bytesRead: 0 }
  const showProgress = command.progress ?? io.stderr.isTTY === true
  const progress = showProgress ? new Progress(io.stderr, counters, input.size) : null
  const report = async (record: string): Promise<void> => {
    counters.failed++
    if (errors === io.stderr) progress?.clear()
    await write(errors, record)
  }

  const lines = createInterface({ input: input.stream, crlfDelay: Number.POSITIVE_INFINITY })
  // Ctrl-C: stop reading (so a source waiting on a terminal ends too), let running tasks finish;
  // again: end them now.
  let interrupts = 0
  let lastLineRead = 0
  const interrupt = (force: boolean): void => {
    interrupts++
    lines.close()
    void handler.stop(force || interrupts > 1 ? { force: true } : {})
  }
  const stopListening = io.onInterrupt(() => interrupt(false))
  // A closed output (`| head`) ends the run quietly, as it does for other Unix tools.
  let outputClosed = false
  output.on('error', () => {
    outputClosed = true
    lines.close()
    void handler.stop({ force: true })
  })
  const emit = async (text: string): Promise<void> => {
    if (!outputClosed) await write(output, text)
  }

  // Lines of the input that became tasks: map index -> line number, while in flight.
  const lineOf = new Map<number, number>()
  let tasks = 0
  async function* argumentsOf(lines: AsyncIterable<string>): AsyncGenerator<unknown> {
    for await (const text of lines) {
      if (interrupts > 0) return
      const line = ++lastLineRead
      counters.bytesRead += Buffer.byteLength(text) + 1
      if (text.trim() === '') continue
      let args: unknown
      try {
        args = JSON.parse(text)
      } catch (error) {
        // Awaited here, so a file of nothing but bad lines is read no faster than it is reported.
        await report(badLineRecord(line, text, error))
        continue
      }
      lineOf.set(tasks++, line)
      yield args
    }
  }

  try {
    const outcomes = handler.mapSettled(argumentsOf(lines), { ordered: command.ordered, ...(command.window !== undefined ? { window: command.window } : {}) })
    for await (const outcome of outcomes) {
      const line = lineOf.get(outcome.index)!
      lineOf.delete(outcome.index)
      if (outcome.status === 'fulfilled') {
        counters.done++
        await emit(jsonLine(outcome.value))
      } else if (outcome.status === 'rejected') {
        await report(failureRecord(line, outcome.reason))
      }
    }
  } catch (error) {
    // Stopping the handler under a running map ends it; anything else is a bug worth showing.
    if (!((interrupts > 0 || outputClosed) && error instanceof QdmpError && (error.code === ErrorCode.Stopped || error.code === ErrorCode.Cancelled))) throw error
  } finally {
    stopListening()
    lines.close()
    input.stream.destroy()
    await handler.stop()
  }
  progress?.finish(interrupts > 0)
  if (interrupts > 0) io.stderr.write(`qdmp: interrupted; input after line ${lastLineRead} was not read\n`)
  if (!outputClosed) await closeOutput(output, io.stdout)
  await closeOutput(errors, io.stderr)
  if (interrupts > 0) return EXIT.interrupted
  if (outputClosed) return EXIT.someFailed
  return counters.failed > 0 ? EXIT.someFailed : EXIT.ok
}
