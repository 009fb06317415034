// Short, safe descriptions of arbitrary values for error messages: never throws, never prints
// a whole megabyte argument.

/** Describes a value in a few words, e.g. `number 1.5`, `"abc"`, `an array of length 3`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`
  if (typeof value !== 'object') return `${typeof value} ${String(value)}`
  if (Array.isArray(value)) return `an array of length ${value.length}`
  return `an object (${Object.prototype.toString.call(value).slice(8, -1)})`
}
