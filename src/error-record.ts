// A thrown value, carried from a worker to the producer. Structured clone keeps only an error's
// name, message and stack; users match on class names and on own properties such as `code`
// (`ENOENT`), so the record carries those too, and wraps a thrown non-Error instead of losing it.

import { inspect } from 'node:util'
import * as v8 from 'node:v8'

import { QdmpError, type QdmpErrorCode, ThrownValueError } from './errors'

/** What crosses the thread or process boundary for one thrown value. */
export interface ErrorRecord {
  isError: boolean
  /** `error.name`, or for non-errors the value's type. */
  name: string
  /** The class (constructor) name, when it is not the generic one its `name` implies. */
  className?: string
  message: string
  stack: string
  /** Own enumerable properties, each cloned, or its string form when it cannot be. */
  props: Record<string, unknown>
  /** A non-Error thrown value, cloned when possible. */
  value?: unknown
  /** `error.cause`, recursively (depth-limited). */
  cause?: ErrorRecord
  /** Set when the error is a QdmpError raised in the worker (e.g. a result that cannot be cloned). */
  qdmpCode?: QdmpErrorCode
}

/** The longest description of a thrown non-Error that goes into a message. */
const MAX_DESCRIPTION = 1000

/** `text` cut to at most `length` code units, never between the two halves of a surrogate pair. */
function cutAt(text: string, length: number): string {
  const code = text.charCodeAt(length - 1)
  return text.slice(0, code >= 0xd800 && code < 0xdc00 ? length - 1 : length)
}

function cloneable(value: unknown): unknown {
  try {
    v8.serialize(value)
    return value
  } catch {
    return String(value)
  }
}

function looksLikeError(value: unknown): value is Error {
  return value instanceof Error || (typeof value === 'object' && value !== null && 'message' in value && 'stack' in value)
}

/** Describes `thrown` for the trip to the producer (runs in the worker). */
export function toErrorRecord(thrown: unknown, depth = 0): ErrorRecord {
  if (!looksLikeError(thrown)) {
    let description: string
    try {
      // An object's contents, not "[object Object]": what was thrown is what the user must find.
      description =
        typeof thrown === 'string'
          ? JSON.stringify(thrown)
          : typeof thrown === 'object' && thrown !== null
            ? inspect(thrown, { depth: 2, breakLength: Infinity, maxArrayLength: 10, maxStringLength: 200 })
            : String(thrown)
      // An object of many keys would make a message of tens of kilobytes; error.value keeps it all.
      if (description.length > MAX_DESCRIPTION) description = `${cutAt(description, MAX_DESCRIPTION)}…`
    } catch {
      description = Object.prototype.toString.call(thrown)
    }
    return { isError: false, name: typeof thrown, message: description, stack: '', props: {}, value: cloneable(thrown) }
  }
  const props: Record<string, unknown> = {}
  for (const key of Object.keys(thrown)) {
    if (key === 'name' || key === 'message' || key === 'stack' || key === 'cause') continue
    props[key] = cloneable((thrown as unknown as Record<string, unknown>)[key])
  }
  const record: ErrorRecord = {
    isError: true,
    name: String(thrown.name),
    message: String(thrown.message),
    stack: String(thrown.stack ?? ''),
    props,
  }
  if (thrown instanceof QdmpError) record.qdmpCode = thrown.code
  const className = thrown.constructor?.name
  if (typeof className === 'string' && className !== record.name) record.className = className
  if (thrown.cause !== undefined && depth < 8) record.cause = toErrorRecord(thrown.cause, depth + 1)
  return record
}

const BUILTIN: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
}

/**
 * Rebuilds the thrown value in the producer. Built-in classes come back as themselves
 * (`instanceof TypeError` holds); other classes come back as `Error`s whose `name` is the class
 * name. The stack is the worker's.
 */
export function fromErrorRecord(record: ErrorRecord): Error {
  if (!record.isError) return new ThrownValueError(record.value, record.message)
  const Ctor = BUILTIN[record.name] ?? Error
  const error = record.qdmpCode !== undefined ? new QdmpError(record.qdmpCode, record.message) : new Ctor(record.message)
  // A subclass that never set `name` still reports `Error`; its class name is what users match on.
  const name = record.name === 'Error' && record.className !== undefined ? record.className : record.name
  if (error.name !== name) Object.defineProperty(error, 'name', { value: name, writable: true, configurable: true })
  Object.defineProperty(error, 'stack', { value: record.stack, writable: true, configurable: true })
  for (const [key, value] of Object.entries(record.props)) {
    Object.defineProperty(error, key, { value, enumerable: true, writable: true, configurable: true })
  }
  if (record.cause !== undefined) {
    Object.defineProperty(error, 'cause', { value: fromErrorRecord(record.cause), writable: true, configurable: true })
  }
  return error
}
