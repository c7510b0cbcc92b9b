import type { Executor, Tx } from './database.js';

function isTransaction(executor: Executor): executor is Tx {
  return 'rollback' in executor;
}

/**
 * Runs fn in the caller's transaction when there is one, else in a new one.
 * On PGlite the main connection must never be awaited while a transaction is open (it hangs),
 * so code inside fn must use the tx it is given, never the outer database.
 */
export function inTransaction<T>(executor: Executor, fn: (tx: Tx) => Promise<T>): Promise<T> {
  if (isTransaction(executor)) return fn(executor);
  return executor.transaction(fn);
}
