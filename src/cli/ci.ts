/**
 * True when this is a CI run, by the same rule ink uses (its `is-in-ci` dependency): `CI` or `CONTINUOUS_INTEGRATION`
 * is set — even to an empty string — to anything but '0' or 'false'. One rule for everything that asks:
 * `check --update` refuses to write expectations in CI, and `analyze`/`live` print text instead of opening the
 * interactive UI, which ink would not draw until exit when it believes it runs in CI.
 */
export function inCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const set = (v: string | undefined): boolean => v !== undefined && v !== '0' && v !== 'false';
  return set(env.CI) || set(env.CONTINUOUS_INTEGRATION);
}
