// Preloaded by the test of a missing @duckdb/node-api: resolving the package fails as when it is not installed.
import { register } from 'node:module';

register('data:text/javascript,' + encodeURIComponent(`
export async function resolve(specifier, context, next) {
  if (specifier === '@duckdb/node-api') {
    const e = new Error("Cannot find package '@duckdb/node-api'");
    e.code = 'ERR_MODULE_NOT_FOUND';
    throw e;
  }
  return next(specifier, context);
}`));
