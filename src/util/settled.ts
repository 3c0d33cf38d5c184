/**
 * A value with no promise anywhere inside it. Sinks that serialize what they are given (JSON
 * responses, CLI output) take `T & Settled<T>`, so passing a promise — a forgotten `await` on an
 * operation that became async — is a type error instead of `{}` on the wire.
 */
export type Settled<T> = T extends PromiseLike<unknown>
  ? never
  : T extends (...args: never[]) => unknown
    ? T
    : T extends readonly (infer U)[]
      ? readonly Settled<U>[]
      : T extends object
        ? { readonly [K in keyof T]: Settled<T[K]> }
        : T;
