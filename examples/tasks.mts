// Task functions used by the examples. A module target can import anything it needs; workers
// load it themselves.

/** Squares a number. */
export default function square(x: number): number {
  return x ** 2
}

export class FileExistsError extends Error {
  override name = 'FileExistsError'
}

export class ValueError extends Error {
  override name = 'ValueError'
}

/** Squares numbers, but fails on some on purpose: 4 "already exists", odd numbers are "invalid". */
export function flakySquare(x: number): number {
  if (x === 4) throw new FileExistsError(`output for ${x} already exists`)
  if (x % 2 === 1) throw new ValueError(`${x} is odd`)
  return x ** 2
}
